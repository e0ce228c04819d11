package esl

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/percipia/eslgo/command"
)

// Tests that a reply reaches only the command that caused it (issue 8, item 8): FreeSWITCH
// answers in command order, api with api/response and everything else with command/reply. A
// reply of the wrong kind, one nobody asked for, or replies a peer keeps owing mean the peer is
// out of step (or lying): the connection closes rather than hand a reply to the wrong command.

// connPair returns a conn under test and the raw peer socket at its other end.
func connPair(t *testing.T) (*conn, net.Conn, *bufio.Reader) {
	t.Helper()
	peers := make(chan net.Conn, 1)
	ln := listen(t, func(nc net.Conn) { peers <- nc })
	nc, err := net.Dial("tcp", ln.Addr().String())
	must(t, err)
	c := newConn(nc, testLogger(t), nil)
	c.start()
	t.Cleanup(func() { c.fail(errors.New("test over")) })
	peer := <-peers
	t.Cleanup(func() { peer.Close() })
	return c, peer, bufio.NewReader(peer)
}

type sent struct {
	f   frame
	err error
}

// sendAsync sends cmd and returns where its outcome will arrive.
func sendAsync(ctx context.Context, c *conn, cmd command.Command) <-chan sent {
	out := make(chan sent, 1)
	go func() {
		f, err := c.send(ctx, time.Second, cmd)
		out <- sent{f, err}
	}()
	return out
}

func peerReads(t *testing.T, br *bufio.Reader, want string) {
	t.Helper()
	if cmd, err := readCommand(br); err != nil || cmd != want {
		t.Fatalf("peer got %q, %v; want %q", cmd, err, want)
	}
}

func closedWithin(c *conn, d time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(d):
		return false
	}
}

const (
	apiTrue  = "Content-Type: api/response\nContent-Length: 4\n\ntrue"
	apiFalse = "Content-Type: api/response\nContent-Length: 5\n\nfalse"
	replyOK  = "Content-Type: command/reply\nReply-Text: +OK\n\n"
)

// TestConn_ReplyOfWrongKind: an api command answered with a command/reply +OK (or a command
// answered with an api/response) gets no reply at all: the connection closes. Taken as the
// answer, the api command's own answer would come next and go to the next command.
func TestConn_ReplyOfWrongKind(t *testing.T) {
	for _, tc := range []struct {
		name, cmd, reply string
		c                command.Command
	}{
		{"api answered by command/reply", "api uuid_exists 1", replyOK, command.API{Command: "uuid_exists", Arguments: "1"}},
		{"command answered by api/response", "myevents plain", apiTrue, command.MyEvents{Format: "plain"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, peer, br := connPair(t)
			out := sendAsync(context.Background(), c, tc.c)
			peerReads(t, br, tc.cmd)
			peer.Write([]byte(tc.reply))
			if r := <-out; !errors.Is(r.err, errConnGone) {
				t.Fatalf("send = %q %q, %v; want errConnGone", r.f.contentType(), r.f.replyText(), r.err)
			}
			if !closedWithin(c, time.Second) {
				t.Fatal("connection still open after a reply of the wrong kind")
			}
		})
	}
}

// TestConn_APIRefused: FreeSWITCH refuses an api command it will not run (not authenticated,
// permission denied) with a command/reply -ERR: that is the command's answer.
func TestConn_APIRefused(t *testing.T) {
	c, peer, br := connPair(t)
	out := sendAsync(context.Background(), c, command.API{Command: "status"})
	peerReads(t, br, "api status")
	peer.Write([]byte("Content-Type: command/reply\nReply-Text: -ERR permission denied\n\n"))
	if r := <-out; r.err != nil || r.f.replyText() != "-ERR permission denied" {
		t.Fatalf("send = %q, %v", r.f.replyText(), r.err)
	}
	if c.cause() != nil {
		t.Fatalf("closed: %v", c.cause())
	}
}

// TestConn_LateReplyOfAbandonedCommand: the reply of a command whose caller gave up is
// discarded when it comes, of the kind that command expects; the next command gets its own.
func TestConn_LateReplyOfAbandonedCommand(t *testing.T) {
	c, peer, br := connPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	out := sendAsync(ctx, c, command.API{Command: "uuid_exists", Arguments: "1"})
	peerReads(t, br, "api uuid_exists 1")
	if r := <-out; !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("abandoned send = %v", r.err)
	}
	out = sendAsync(context.Background(), c, command.API{Command: "uuid_exists", Arguments: "2"})
	peerReads(t, br, "api uuid_exists 2")
	peer.Write([]byte(apiTrue + apiFalse)) // the late answer to 1, then the answer to 2
	if r := <-out; r.err != nil || string(r.f.body) != "false" {
		t.Fatalf("second send = %q, %v; want its own answer, false", r.f.body, r.err)
	}

	// A late reply of the wrong kind for the abandoned command: out of step, closed.
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	out = sendAsync(ctx, c, command.API{Command: "uuid_exists", Arguments: "3"})
	peerReads(t, br, "api uuid_exists 3")
	<-out
	out = sendAsync(context.Background(), c, command.API{Command: "uuid_exists", Arguments: "4"})
	peerReads(t, br, "api uuid_exists 4")
	peer.Write([]byte(replyOK + apiTrue))
	if r := <-out; !errors.Is(r.err, errConnGone) {
		t.Fatalf("send after a late reply of the wrong kind = %q, %v; want errConnGone", r.f.body, r.err)
	}
}

// TestConn_OwedRepliesBounded: a peer that leaves the commands whose callers gave up
// unanswered is not answering: after maxOwed of them the connection closes, instead of
// counting unanswered commands without end.
func TestConn_OwedRepliesBounded(t *testing.T) {
	c, _, br := connPair(t)
	for i := range maxOwed + 1 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		out := sendAsync(ctx, c, command.API{Command: "status"})
		peerReads(t, br, "api status")
		r := <-out
		cancel()
		if i < maxOwed && (!errors.Is(r.err, context.DeadlineExceeded) || c.cause() != nil) {
			t.Fatalf("command %d: %v, connection %v", i+1, r.err, c.cause())
		}
	}
	if !closedWithin(c, time.Second) {
		t.Fatalf("connection open with %d replies owed", maxOwed+1)
	}
}

// TestConn_UnsolicitedReply: a reply while no command waits closes the connection.
func TestConn_UnsolicitedReply(t *testing.T) {
	c, peer, _ := connPair(t)
	peer.Write([]byte(replyOK))
	if !closedWithin(c, time.Second) {
		t.Fatal("connection open after a reply nobody asked for")
	}
}
