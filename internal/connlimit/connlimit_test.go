package connlimit

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestListener: with the bound reached, one more connection is closed at once and counted
// (counted before the close, so a peer that sees it closed finds it counted); closing an
// accepted connection frees its slot, once however often it is closed.
func TestListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(ln, 2)
	defer l.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	dial()
	first, second := <-accepted, <-accepted
	extra := dial()
	extra.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("a connection beyond the bound: read %v, want it closed", err)
	}
	if l.Refused() != 1 || l.Open() != 2 {
		t.Fatalf("refused %d, open %d; want 1 and 2", l.Refused(), l.Open())
	}
	first.Close()
	first.Close() // a second close gives back nothing more
	if l.Open() != 1 {
		t.Fatalf("open %d after one close, want 1", l.Open())
	}
	dial()
	<-accepted
	second.Close()
	if l.Open() != 1 || l.Refused() != 1 {
		t.Fatalf("refused %d, open %d; want 1 and 1", l.Refused(), l.Open())
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}
