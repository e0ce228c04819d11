package control

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Listen takes the socket with mode 0600 in a folder it creates; a second server on the same
// path is refused while the first answers, and leaves the first one's socket alone; Close
// removes the socket file, and a second Close does nothing.
func TestServer_ListenAndClose(t *testing.T) {
	ts := startServer(t, handlerFuncs{}, nil)
	fi, err := os.Stat(ts.path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v, %v; want a socket of mode 0600", fi, err)
	}
	if dir, err := os.Stat(filepath.Dir(ts.path)); err != nil || dir.Mode().Perm() != 0o700 {
		t.Errorf("socket folder %v, %v; want mode 0700", dir, err)
	}

	second := NewServer(ts.path, handlerFuncs{}, nil)
	err = second.Listen()
	if consent.ErrorCode(err) != consent.ECONFLICT || consent.ErrorMessage(err) != "another callconsent daemon is running (control socket "+ts.path+" answers)" {
		t.Errorf("second Listen: %v, want a conflict", err)
	}
	if err := second.Close(); err != nil {
		t.Errorf("Close of a server that never listened: %v", err)
	}
	ts.ping(t, 5*time.Second)

	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(ts.path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file after Close: %v", err)
	}
	if err := ts.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A socket file left by a crashed daemon (nothing answers on it) is replaced; requests that
// arrive between Listen and Open wait in the listen queue and are answered once it opens.
func TestServer_StaleSocketReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	crashed, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	crashed.(*net.UnixListener).SetUnlinkOnClose(false) // the file stays, as after a crash
	crashed.Close()

	s := NewServer(path, handlerFuncs{status: func() *Status { return &Status{LiveCalls: 3} }}, nil)
	if err := s.Listen(); err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer s.Close()
	answered := make(chan error, 1)
	go func() {
		st, err := Client{Path: path}.Status(context.Background())
		if err == nil && st.LiveCalls != 3 {
			err = errors.New("wrong status")
		}
		answered <- err
	}()
	time.Sleep(100 * time.Millisecond) // the request waits in the listen queue
	select {
	case err := <-answered:
		t.Fatalf("answered before Open: %v", err)
	default:
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-answered; err != nil {
		t.Errorf("status after Open: %v", err)
	}
}
