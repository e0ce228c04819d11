package control

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// TestClient_BacklogFull: a daemon that accepts nothing while its listen backlog is full
// makes connect fail at once with EAGAIN; the client retries until its dial timeout, then says
// the daemon does not answer (so withdraw can fall back), instead of a raw system error.
func TestClient_BacklogFull(t *testing.T) {
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
	_, err = Client{Path: path}.Ask(context.Background(), Request{Op: OpStatus}, answerTimeout)
	took := time.Since(start)
	if !errors.Is(err, ErrNotAnswering) || took < dialTimeout || took > dialTimeout+2*time.Second {
		t.Fatalf("Ask: %v after %s; want ErrNotAnswering after about %s", err, took, dialTimeout)
	}
	if want := "(connection not accepted)"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
}

// TestClient_AnswerBounded: an answer larger than maxAnswer without a newline is refused
// once maxAnswer bytes are read, not read into memory without end. The peer sends four times
// maxAnswer and then holds the connection open: a client without the bound would read it all
// and wait for more until its deadline.
func TestClient_AnswerBounded(t *testing.T) {
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
		for range 4 * maxAnswer / len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				return // the client gave up on the answer
			}
		}
		c.Read(make([]byte, 1)) // until the client closes
	}()
	start := time.Now()
	_, err = Client{Path: path}.Ask(context.Background(), Request{Op: OpStatus}, answerTimeout)
	if err == nil || errors.Is(err, ErrNotAnswering) || !strings.Contains(err.Error(), "no answer from the daemon") {
		t.Fatalf("Ask with an endless answer: %v after %s", err, time.Since(start))
	}
}

// TestClient_NoDaemon: no socket file, or one nothing listens on, is ErrNoDaemon (withdraw
// then does the work itself), at once.
func TestClient_NoDaemon(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	for _, path := range []string{filepath.Join(dir, "missing.sock"), stale} {
		start := time.Now()
		if _, err := (Client{Path: path}).Status(context.Background()); !errors.Is(err, ErrNoDaemon) || time.Since(start) > time.Second {
			t.Errorf("%s: %v after %s, want ErrNoDaemon at once", filepath.Base(path), err, time.Since(start))
		}
	}
}

// TestClient_Withdraw: the server hands the handler the call UUID in its canonical form
// (another client may not have normalised it), and the handler's coded error comes back to
// the client as the same consent error, together with what was withdrawn.
func TestClient_Withdraw(t *testing.T) {
	const canonical = "6f1c2a4e-9d3b-4c7a-8e21-0b5d7f3a9c11"
	got := make(chan consent.WithdrawRequest, 1)
	ts := startServer(t, handlerFuncs{
		status: func() *Status { return &Status{} },
		withdraw: func(_ context.Context, req consent.WithdrawRequest) (consent.WithdrawResult, error) {
			got <- req
			return consent.WithdrawResult{Calls: []string{req.CallUUID}, FilesPending: 1},
				consent.Errorf(consent.ECONFLICT, "consent withdrawn; 1 file(s) await deletion: folder missing")
		},
	}, nil)
	res, err := Client{Path: ts.path}.Withdraw(context.Background(), consent.WithdrawRequest{CallUUID: strings.ToUpper(canonical), Reason: "ticket 1"})
	if req := <-got; req.CallUUID != canonical || req.Reason != "ticket 1" {
		t.Errorf("the handler got %+v, want the canonical UUID", req)
	}
	if consent.ErrorCode(err) != consent.ECONFLICT || consent.ErrorMessage(err) != "consent withdrawn; 1 file(s) await deletion: folder missing" {
		t.Errorf("error %v, want the handler's conflict", err)
	}
	if len(res.Calls) != 1 || res.Calls[0] != canonical || res.FilesPending != 1 {
		t.Errorf("result %+v", res)
	}
}
