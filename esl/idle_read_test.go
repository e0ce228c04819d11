package esl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/percipia/eslgo/command"
)

// TestConn_QuietReadsAsBefore: a quiet connection, which gives its read buffer back while it
// waits, still reads every frame in order, one split across the wait too, answers a command's
// reply and sees the peer's end.
func TestConn_QuietReadsAsBefore(t *testing.T) {
	peers := make(chan net.Conn, 1)
	ln := listen(t, func(nc net.Conn) { peers <- nc })
	nc, err := net.Dial("tcp", ln.Addr().String())
	must(t, err)
	events := make(chan string, 10)
	c := newConn(nc, testLogger(t), func(e event) { events <- e.get("Event-Name") })
	c.quiet()
	c.start()
	t.Cleanup(func() { c.fail(errors.New("test over")) })
	peer := <-peers
	defer peer.Close()

	ev := func(name string) string {
		body := "Event-Name: " + name + "\nUnique-ID: x\n\n"
		return fmt.Sprintf("Content-Length: %d\nContent-Type: text/event-plain\n\n%s", len(body), body)
	}
	first := ev("CHANNEL_HANGUP")
	for _, part := range []string{first[:20], first[20:], ev("RECORD_STOP") + ev("CHANNEL_HANGUP_COMPLETE")} {
		time.Sleep(20 * time.Millisecond) // the reader waits without its buffer meanwhile
		_, err := peer.Write([]byte(part))
		must(t, err)
	}
	for _, want := range []string{"CHANNEL_HANGUP", "RECORD_STOP", "CHANNEL_HANGUP_COMPLETE"} {
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("event %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s", want)
		}
	}
	reply := sendAsync(context.Background(), c, command.Exit{})
	time.Sleep(20 * time.Millisecond)
	_, err = peer.Write([]byte("Content-Type: command/reply\nReply-Text: +OK bye\n\n"))
	must(t, err)
	if r := <-reply; r.err != nil || !r.f.ok() {
		t.Fatalf("reply %q, %v", r.f.replyText(), r.err)
	}
	peer.Close()
	select {
	case <-c.done:
		if !errors.Is(c.err, io.EOF) {
			t.Errorf("ended with %v, want EOF", c.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the peer's end not seen")
	}
}
