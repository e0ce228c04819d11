package esl

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

const ownerTestPassword = "Owner-Check-Secret-1"

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startOwnerControl runs a fake FreeSWITCH and a Control to it with the given owner check.
func startOwnerControl(t *testing.T, owner *OwnerCheck) (*Control, *fakefs.Server, *atomic.Int32, *lockedBuffer) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the owner check reads Linux's /proc/net/tcp")
	}
	fs := fakefs.New(fakefs.Config{Password: ownerTestPassword, HeartbeatInterval: 50 * time.Millisecond, Logger: testLogger(t)})
	must(t, fs.Open(context.Background()))
	t.Cleanup(func() { fs.Close() })
	logs := &lockedBuffer{}
	c := NewControl(fs.Addr(), ownerTestPassword, slog.New(slog.NewTextHandler(logs, nil)))
	c.BackoffMin, c.BackoffMax = 5*time.Millisecond, 20*time.Millisecond
	c.CommandTimeout = time.Second
	c.Owner = owner
	var refused atomic.Int32
	c.OnRefused = func() { refused.Add(1) }
	must(t, c.Open(context.Background()))
	t.Cleanup(func() { c.Close() })
	return c, fs, &refused, logs
}

// authsReceived counts the auth commands the fake got on its control side.
func authsReceived(fs *fakefs.Server) int {
	n := 0
	for _, r := range fs.Commands() {
		if r.Side == "inbound" && strings.HasPrefix(r.Line, "auth") {
			n++
		}
	}
	return n
}

// TestControl_OwnerCheck_OwnAccount: the fake FreeSWITCH listens from this test process, so its
// socket is ours; with our uid allowed, the control connection authenticates as before.
func TestControl_OwnerCheck_OwnAccount(t *testing.T) {
	c, fs, refused, _ := startOwnerControl(t, &OwnerCheck{UIDs: []uint32{uint32(os.Getuid())}})
	waitFor(t, "ready", c.Ready)
	if refused.Load() != 0 || authsReceived(fs) != 1 {
		t.Fatalf("refusals %d, auths %d; want 0 and 1", refused.Load(), authsReceived(fs))
	}
}

// TestControl_OwnerCheck_Refused: with our uid not allowed, the socket that answers is someone
// else's: the password is never sent, the refusal is logged with uid and port and counted, and
// the supervisor keeps retrying.
func TestControl_OwnerCheck_Refused(t *testing.T) {
	me := uint32(os.Getuid())
	c, fs, refused, logs := startOwnerControl(t, &OwnerCheck{UIDs: []uint32{me + 1}, Advice: "add the account to freeswitch-users"})
	waitFor(t, "three refusals (retries)", func() bool { return refused.Load() >= 3 })
	if c.Ready() {
		t.Error("ready with a refused peer")
	}
	if n := authsReceived(fs); n != 0 {
		t.Fatalf("the fake received %d auth commands: the password was sent", n)
	}
	port := fs.Addr()[strings.LastIndex(fs.Addr(), ":")+1:]
	out := logs.String()
	for _, want := range []string{"refused the FreeSWITCH peer: password not sent", "port=" + port,
		fmt.Sprintf("uid=%d", me), "not an allowed account", "add the account to freeswitch-users"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, ownerTestPassword) {
		t.Error("the log shows the password")
	}
}

// TestControl_OwnerCheck_Tables: the check as it reads the tables, with tables of our making.
func TestControl_OwnerCheck_Tables(t *testing.T) {
	for _, tc := range []struct {
		name, tcp string // "" = no tcp file at all
		want      string
	}{
		{"ListenerOfAnotherAccount", "header\n   0: 0100007F:%04X 00000000:0000 0A 0:0 0:0 0 4242 0 1\n", "belongs to uid 4242"},
		{"NoListener", "header\n", "no listener on port"},
		{"NoTable", "", "cannot read the socket tables"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			owner := &OwnerCheck{UIDs: []uint32{uint32(os.Getuid())}, ProcNet: dir}
			c, fs, refused, logs := startOwnerControl(t, owner)
			if tc.tcp != "" {
				var port int
				fmt.Sscanf(fs.Addr()[strings.LastIndex(fs.Addr(), ":")+1:], "%d", &port)
				must(t, os.WriteFile(filepath.Join(dir, "tcp"), []byte(strings.ReplaceAll(tc.tcp, "%04X", fmt.Sprintf("%04X", port))), 0o600))
			}
			waitFor(t, "a refusal saying "+tc.want, func() bool { return strings.Contains(logs.String(), tc.want) })
			if c.Ready() || authsReceived(fs) != 0 || refused.Load() == 0 {
				t.Fatalf("ready %v, auths %d, refusals %d; want refused", c.Ready(), authsReceived(fs), refused.Load())
			}
		})
	}
}
