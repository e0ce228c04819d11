package esl

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Tests of the call limit (issue 8, item 2): beyond MaxCalls a connection is turned away at
// once, transferred unrecorded where FreeSWITCH takes the transfer, closed otherwise, and what
// is turned away costs a bounded number of goroutines and sockets for a bounded time.

// limitedServer runs a server of at most max calls whose handler holds each call until release
// is closed.
func limitedServer(t *testing.T, max int, configure func(*OutboundServer)) (*OutboundServer, chan struct{}, *atomic.Int32) {
	t.Helper()
	release := make(chan struct{})
	var overflows atomic.Int32
	s := NewOutboundServer("127.0.0.1:0", func(ctx context.Context, ch consent.Channel) {
		select {
		case <-release:
		case <-ctx.Done():
		}
	}, testLogger(t))
	s.CommandTimeout, s.ShutdownTimeout = time.Second, time.Second
	s.MaxCalls, s.OverflowTransfer = max, "6000 XML default"
	s.OnOverflow = func() { overflows.Add(1) }
	if configure != nil {
		configure(s)
	}
	must(t, s.Open(context.Background()))
	t.Cleanup(func() { s.Close() })
	return s, release, &overflows
}

// rawPeer dials the server as FreeSWITCH would, without answering anything yet.
func rawPeer(t *testing.T, s *OutboundServer) *script {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	must(t, err)
	t.Cleanup(func() { nc.Close() })
	return &script{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// TestOutboundServer_OverMaxCallsTransferred: with one call handled, the next is told at once
// to transfer to the employee (connect, then a sendmsg execute of transfer) and its socket is
// closed; nothing else is sent: no answer, no notice, no recording.
func TestOutboundServer_OverMaxCallsTransferred(t *testing.T) {
	s, release, overflows := limitedServer(t, 1, nil)
	first := dialScript(t, s, connectReply(t))
	waitFor(t, "first call handled", func() bool { return s.Active() == 1 })

	p := rawPeer(t, s)
	p.expect("connect")
	p.write(connectReply(t))
	cmd := p.expect("transfer")
	if !strings.HasPrefix(cmd, "sendmsg "+scriptUUID+"\n") || headerOf(cmd, "call-command") != "execute" ||
		headerOf(cmd, "execute-app-arg") != "6000 XML default" {
		t.Errorf("turned away with %q", cmd)
	}
	p.write(okReply)
	if !p.eofAfter(time.Second) {
		t.Error("socket of the call turned away still open")
	}
	if n := overflows.Load(); n != 1 || s.Active() != 1 {
		t.Errorf("%d overflows counted, %d calls handled; want 1 and 1", n, s.Active())
	}

	// Once the first call ends, the next one is handled again.
	close(release)
	first.expect("exit")
	first.write(okReply)
	waitFor(t, "first call over", func() bool { return s.Active() == 0 })
	dialScript(t, s, connectReply(t))
	waitFor(t, "a new call handled", func() bool { return s.Active() == 1 })
}

// TestOutboundServer_OverMaxCallsSilentPeer: a connection beyond the limit that does not answer
// connect is closed after OverflowTimeout (FreeSWITCH's dialplan fallback takes the call).
func TestOutboundServer_OverMaxCallsSilentPeer(t *testing.T) {
	s, _, _ := limitedServer(t, 1, func(s *OutboundServer) { s.OverflowTimeout = 300 * time.Millisecond })
	dialScript(t, s, connectReply(t))
	waitFor(t, "first call handled", func() bool { return s.Active() == 1 })
	p := rawPeer(t, s)
	began := time.Now()
	p.expect("connect")
	if !p.eofAfter(2*time.Second) || time.Since(began) > time.Second {
		t.Fatalf("silent peer over the limit closed after %s, want about 300ms", time.Since(began))
	}
}

// TestOutboundServer_OverflowSlotsBounded: while OverflowSlots calls are being turned away,
// one more is closed at once, before a byte is sent to it: a flood beyond the limit costs at
// most OverflowSlots goroutines and sockets.
func TestOutboundServer_OverflowSlotsBounded(t *testing.T) {
	s, _, overflows := limitedServer(t, 1, nil)
	dialScript(t, s, connectReply(t))
	waitFor(t, "first call handled", func() bool { return s.Active() == 1 })
	for range OverflowSlots {
		rawPeer(t, s).expect("connect") // and never answer
	}
	if n := len(s.slots); n != OverflowSlots {
		t.Fatalf("%d calls being turned away, want %d", n, OverflowSlots)
	}
	extra := rawPeer(t, s)
	_ = extra.nc.SetReadDeadline(time.Now().Add(time.Second))
	if b, err := extra.br.ReadByte(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("a call beyond every slot got %q, %v; want the socket closed at once", b, err)
	}
	if n := overflows.Load(); n != OverflowSlots+1 {
		t.Errorf("%d overflows counted, want %d", n, OverflowSlots+1)
	}
	waitFor(t, "slots freed after OverflowTimeout", func() bool { return len(s.slots) == 0 })
}
