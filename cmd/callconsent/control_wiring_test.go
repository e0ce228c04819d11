package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/control"
)

// startControlSocket serves the control socket of a daemon that has nothing else open: enough
// for requests that need no FreeSWITCH and no database (an unknown op is answered by the
// socket's own code).
func startControlSocket(t *testing.T) (*daemon, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	d := newDaemon(testConfig(t), slog.New(slog.NewTextHandler(logs, nil)))
	if err := d.listenControl(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.serveControl(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d, logs
}

// ctlPing sends a request the socket answers itself and checks it is answered within wait.
func ctlPing(t *testing.T, d *daemon, wait time.Duration) {
	t.Helper()
	resp, err := control.Client{Path: d.cfg.ControlSocket}.Ask(context.Background(), control.Request{Op: "ping"}, wait)
	if err != nil || !strings.Contains(resp.Error, `unknown op "ping"`) {
		t.Fatalf("ping answered %+v, %v", resp, err)
	}
}

// A panic while a request is handled is answered as an internal error, logged and counted as
// the daemon's other loops count theirs; the socket goes on serving. (A withdrawal on a daemon
// without its withdrawer dereferences nil: in a running daemon it would be any bug in the
// withdrawal path.)
func TestControlSocket_PanicRecovered(t *testing.T) {
	d, logs := startControlSocket(t)
	req := consent.WithdrawRequest{CallUUID: "6f1c2a4e-9d3b-4c7a-8e21-0b5d7f3a9c11", Reason: "t"}
	resp, err := control.Client{Path: d.cfg.ControlSocket}.Ask(context.Background(), control.Request{Op: control.OpWithdraw, Withdraw: &req}, 5*time.Second)
	if err != nil || resp.Code != consent.EINTERNAL || !strings.Contains(resp.Error, "recovered panic") {
		t.Errorf("answer %+v, %v", resp, err)
	}
	ctlPing(t, d, 5*time.Second)
	if text, _ := d.metrics.Text(); !strings.Contains(text, `callconsent_panics_recovered_total{loop="control-socket"} 1`) ||
		!strings.Contains(text, `callconsent_alarms_total{kind="panic-recovered"} 1`) {
		t.Errorf("panic not counted:\n%s", text)
	}
	if a, ok := d.panics.alarm(); !ok || a.Kind != alarmKindPanic || a.Count != 1 || !strings.Contains(a.Message, "control-socket") {
		t.Errorf("alarm %+v, %v", a, ok)
	}
	if !strings.Contains(logs.String(), "panic recovered") || !strings.Contains(logs.String(), "nil pointer dereference") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// hungDaemon listens on the control socket of dir like a daemon whose accept loop or request
// handling hangs. accept: false leaves every connection in the backlog; true accepts and reads
// the request but never answers.
func hungDaemon(t *testing.T, dir string, accept bool) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(dir, "control.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	if !accept {
		return
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			go c.Read(make([]byte, 4096))
		}
	}()
}

// TestCLI_DaemonNotAnswering: status and withdraw give up after seconds, not 90 s, when the
// daemon does not answer on its control socket; status says so, withdraw says so and
// withdraws directly.
func TestCLI_DaemonNotAnswering(t *testing.T) {
	for _, accept := range []bool{false, true} {
		name := map[bool]string{false: "NotAccepting", true: "NoAnswer"}[accept]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg, err := LoadConfig("", false, testFlags(t, "--data-dir", dir))
			if err != nil {
				t.Fatal(err)
			}
			seedCalls(t, cfg)
			os.MkdirAll(cfg.RecordingsDir, 0o750)
			hungDaemon(t, dir, accept)

			start := time.Now()
			code, _, stderr := runArgs(t, dir, "status")
			want := "callconsent: status: the daemon did not answer on its control socket " + cfg.ControlSocket + " within 5s (no answer): it may be hung or overloaded; see its log\n"
			if took := time.Since(start); code != exitError || stderr != want || took > 8*time.Second {
				t.Errorf("status: exit %d after %s, stderr %q; want exit 1 within 8s and %q", code, took, stderr, want)
			}

			start = time.Now()
			code, stdout, stderr := runArgs(t, dir, "withdraw", "--call", uuidGranted, "--reason", "ticket 9")
			took := time.Since(start)
			if code != exitOK || took > 8*time.Second ||
				!strings.HasPrefix(stdout, "consent withdrawn directly (the daemon does not answer, so no live call could be stopped)\n") ||
				!strings.Contains(stderr, "did not answer on its control socket") || !strings.Contains(stderr, "callconsent: withdrawing directly instead (this way a call in progress cannot have its recording stopped)") {
				t.Errorf("withdraw: exit %d after %s\nstdout:\n%s\nstderr:\n%s", code, took, stdout, stderr)
			}
			if c := findCall(t, cfg, uuidGranted); c.WithdrawnAt.IsZero() || c.Recording == nil || c.Recording.State != "deleted" {
				t.Errorf("call after the direct withdrawal: %+v", c)
			}
		})
	}
}
