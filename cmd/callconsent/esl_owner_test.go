package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

// startOwnerDaemon runs the daemon against a fake FreeSWITCH whose port the socket table in
// procNet says belongs to uid 4242: neither root, nor us, nor a freeswitch-users account.
func startOwnerDaemon(t *testing.T, flags ...string) (*daemon, *fakefs.Server, *syncBuffer) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the owner check reads Linux's /proc/net/tcp")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logs := &syncBuffer{}
	fs := fakefs.New(fakefs.Config{Password: testPassword, HeartbeatInterval: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err := fs.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	port, _ := strconv.Atoi(fs.Addr()[strings.LastIndex(fs.Addr(), ":")+1:])

	dir, procNet := t.TempDir(), t.TempDir()
	table := fmt.Sprintf("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"+
		"   0: 0100007F:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000  4242        0 31337 1 0000000000000000 100 0 0 10 0\n", port)
	if err := os.WriteFile(filepath.Join(procNet, "tcp"), []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "esl-password"), []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--data-dir", dir, "--esl-listen", "127.0.0.1:0", "--freeswitch", fs.Addr(), "--freeswitch-users", "4243"}, flags...)
	cfg, err := LoadConfig("", false, testFlags(t, args...))
	if err != nil {
		t.Fatal(err)
	}
	d := newDaemon(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	d.procNet = procNet
	if err := d.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, fs, logs
}

// TestDaemon_RefusesForeignESLPeer: someone else's account listens on FreeSWITCH's port. The
// daemon never sends it the password, says so with uid and port, counts it for status, and
// keeps retrying. Before, the password went to whatever answered.
func TestDaemon_RefusesForeignESLPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for reconnects")
	}
	d, fs, logs := startOwnerDaemon(t)
	waitUntil(t, "two refusals", func() bool {
		return strings.Contains(d.Status().Metrics, "callconsent_esl_peer_refusals_total 2")
	})
	if d.control.Ready() {
		t.Error("control connection up with a refused peer")
	}
	for _, r := range fs.Commands() {
		if r.Side == "inbound" && strings.HasPrefix(r.Line, "auth") {
			t.Fatalf("the foreign listener received %q: the password was sent", r.Line)
		}
	}
	port := fs.Addr()[strings.LastIndex(fs.Addr(), ":")+1:]
	out := logs.String()
	for _, want := range []string{"refused the FreeSWITCH peer: password not sent", "port=" + port, "uid=4242",
		"root (uid 0)", "uid 4243", "freeswitch-users", "freeswitch-owner-check: false"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, testPassword) {
		t.Error("the log shows the password")
	}
}

// TestDaemon_OwnerCheckOff: with freeswitch-owner-check: false the same peer gets the password
// (a FreeSWITCH in another network namespace, whose sockets this host cannot see).
func TestDaemon_OwnerCheckOff(t *testing.T) {
	d, fs, _ := startOwnerDaemon(t, "--freeswitch-owner-check=false")
	waitUntil(t, "control connection ready", d.control.Ready)
	if !strings.Contains(d.Status().Metrics, "callconsent_esl_peer_refusals_total 0") {
		t.Errorf("refusals counted with the check off:\n%s", d.Status().Metrics)
	}
	if fs.InboundConns() == 0 {
		t.Error("no authenticated control connection at the fake")
	}
}

// TestConfigCheck_OwnerLine: config check names the allowed accounts, fails unknown ones, and
// says what turning the check off means.
func TestConfigCheck_OwnerLine(t *testing.T) {
	me := currentUser(t)
	for _, tc := range []struct {
		args []string
		fail bool
		want string
	}{
		{[]string{"--freeswitch-users", me + ",4243"}, false, "the ESL password is sent only if 127.0.0.1:8021 belongs to root (uid 0)"},
		{[]string{"--freeswitch-users", ""}, false, "belongs to root (uid 0)"},
		{[]string{"--freeswitch-users", me + ",no-such-account-x"}, true, `freeswitch-users: no account "no-such-account-x" on this host`},
		{[]string{"--freeswitch-users", "no-such-account-x", "--freeswitch-owner-check=false"}, false, "off (freeswitch-owner-check: false): the ESL password is sent to whatever answers on 127.0.0.1:8021"},
		// A trial with the default list: this host need not have a freeswitch account.
		{[]string{"--freeswitch-users", "freeswitch"}, false, "belongs to root (uid 0)"},
	} {
		c := ownerCheckLine(testConfig(t, tc.args...))
		text := c.info
		if c.err != nil {
			text = c.err.Error()
		}
		if (c.err != nil) != tc.fail || !strings.Contains(text, tc.want) {
			t.Errorf("%v: %q (fail %v); want fail %v with %q", tc.args, text, c.err != nil, tc.fail, tc.want)
		}
		if !tc.fail && strings.Contains(tc.args[1], "4243") && !strings.Contains(text, "or uid 4243") {
			t.Errorf("%v: %q does not name uid 4243", tc.args, text)
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
