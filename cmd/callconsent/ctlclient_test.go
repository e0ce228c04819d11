package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

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

// TestAskDaemon_BacklogFull: a daemon that accepts nothing while its listen backlog is full
// makes connect fail at once with EAGAIN; askDaemon retries until its dial timeout, then says
// the daemon does not answer (so withdraw can fall back), instead of a raw system error.
func TestAskDaemon_BacklogFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	full := false
	for i := 0; i < 8 && !full; i++ {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err != nil {
			full = errors.Is(err, syscall.EAGAIN)
			break
		}
		defer c.Close()
	}
	if !full {
		t.Skip("the backlog never filled (connect did not return EAGAIN)")
	}
	start := time.Now()
	_, err = askDaemon(context.Background(), path, ctlRequest{Op: "status"}, ctlAnswerTimeout)
	took := time.Since(start)
	if !errors.Is(err, errNotAnswering) || took < ctlDialTimeout || took > ctlDialTimeout+2*time.Second {
		t.Fatalf("askDaemon: %v after %s; want errNotAnswering after about %s", err, took, ctlDialTimeout)
	}
	if want := "(connection not accepted)"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
}

// TestAskDaemon_AnswerBounded: an answer larger than maxCtlAnswer without a newline is
// refused, not read into memory without end.
func TestAskDaemon_AnswerBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Read(make([]byte, 4096))
		chunk := make([]byte, 1<<20)
		for i := range chunk {
			chunk[i] = 'x'
		}
		for range maxCtlAnswer/len(chunk) + 2 {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}()
	_, err = askDaemon(context.Background(), path, ctlRequest{Op: "status"}, ctlAnswerTimeout)
	if err == nil || errors.Is(err, errNotAnswering) || !strings.Contains(err.Error(), "no answer from the daemon") {
		t.Fatalf("askDaemon with an endless answer: %v", err)
	}
}
