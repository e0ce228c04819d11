package esl

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Tests of the call limit (issue 8, item 2): beyond MaxCalls a connection is turned away at
// once, transferred unrecorded where FreeSWITCH takes the transfer, closed otherwise, and what
// is turned away costs a bounded number of goroutines and sockets for a bounded time.

// limitedServer runs a server of at most max calls whose handler holds each call until release
// is closed.
func limitedServer(t *testing.T, max int, configure func(*OutboundServer)) (*OutboundServer, chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	s := NewOutboundServer("127.0.0.1:0", func(ctx context.Context, ch consent.Channel) {
		select {
		case <-release:
		case <-ctx.Done():
		}
	}, testLogger(t))
	s.CommandTimeout, s.ShutdownTimeout = time.Second, time.Second
	s.MaxCalls, s.OverflowTransfer = max, "6000 XML default"
	if configure != nil {
		configure(s)
	}
	must(t, s.Open(context.Background()))
	t.Cleanup(func() { s.Close() })
	return s, release
}

// rawPeer dials the server as FreeSWITCH would, without answering anything yet.
func rawPeer(t *testing.T, s *OutboundServer) *script {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	must(t, err)
	t.Cleanup(func() { nc.Close() })
	return &script{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// expectTransferAway reads what a call turned away is sent: connect and, without waiting for
// its reply, a sendmsg execute of transfer to the employee for the socket's own call.
func expectTransferAway(p *script) {
	p.t.Helper()
	p.expect("connect")
	cmd := p.expect("transfer")
	if !strings.HasPrefix(cmd, "sendmsg\n") || headerOf(cmd, "call-command") != "execute" ||
		headerOf(cmd, "execute-app-arg") != "6000 XML default" {
		p.t.Errorf("turned away with %q", cmd)
	}
}

// TestOutboundServer_OverMaxCallsTransferred: with one call handled, the next is told at once
// to transfer to the employee and its socket is closed once FreeSWITCH acknowledged; nothing
// else is sent: no answer, no notice, no recording.
func TestOutboundServer_OverMaxCallsTransferred(t *testing.T) {
	s, release := limitedServer(t, 1, nil)
	first := dialScript(t, s, connectReply(t))
	waitFor(t, "first call handled", func() bool { return s.Active() == 1 })

	p := rawPeer(t, s)
	expectTransferAway(p)
	p.write(connectReply(t), okReply)
	if !p.eofAfter(time.Second) {
		t.Error("socket of the call turned away still open")
	}
	if n := s.Overflows(); n != 1 || s.Active() != 1 {
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
// is closed after OverflowTimeout.
func TestOutboundServer_OverMaxCallsSilentPeer(t *testing.T) {
	s, _ := limitedServer(t, 1, func(s *OutboundServer) { s.OverflowTimeout = 300 * time.Millisecond })
	dialScript(t, s, connectReply(t))
	waitFor(t, "first call handled", func() bool { return s.Active() == 1 })
	p := rawPeer(t, s)
	began := time.Now()
	expectTransferAway(p)
	if !p.eofAfter(2*time.Second) || time.Since(began) > time.Second {
		t.Fatalf("silent peer over the limit closed after %s, want about 300ms", time.Since(began))
	}
}

// TestOutboundServer_OverflowSlotsBounded: while OverflowSlots calls turned away await their
// replies, one more is sent the transfer and closed at once, without waiting for anything: a
// flood beyond the limit costs at most OverflowSlots goroutines and sockets.
func TestOutboundServer_OverflowSlotsBounded(t *testing.T) {
	s, _ := limitedServer(t, 1, nil)
	dialScript(t, s, connectReply(t))
	waitFor(t, "first call handled", func() bool { return s.Active() == 1 })
	for range OverflowSlots {
		expectTransferAway(rawPeer(t, s)) // and never answer
	}
	if n := len(s.slots); n != OverflowSlots {
		t.Fatalf("%d calls being turned away, want %d", n, OverflowSlots)
	}
	extra := rawPeer(t, s)
	began := time.Now()
	expectTransferAway(extra)
	if !extra.eofAfter(time.Second) || time.Since(began) > 200*time.Millisecond {
		t.Fatalf("a call beyond every slot closed after %s, want at once", time.Since(began))
	}
	if n := s.Overflows(); n != OverflowSlots+1 {
		t.Errorf("%d overflows counted, want %d", n, OverflowSlots+1)
	}
	waitFor(t, "slots freed after OverflowTimeout", func() bool { return len(s.slots) == 0 })
}

// TestOutboundServer_MaxCallsNeedsTarget: a limit without a target to send callers beyond it
// to is refused at Open.
func TestOutboundServer_MaxCallsNeedsTarget(t *testing.T) {
	s := NewOutboundServer("127.0.0.1:0", func(context.Context, consent.Channel) {}, testLogger(t))
	s.MaxCalls = 1
	if err := s.Open(context.Background()); !errors.Is(err, errNoOverflowTransfer) {
		s.Close()
		t.Fatalf("Open = %v, want errNoOverflowTransfer", err)
	}
}

// TestOutboundServer_CloseTurnsAwayWhatFreeSWITCHConnected: a call FreeSWITCH connects while
// the daemon stops gets connect and the transfer, as a call over the limit does, instead of a
// reset socket (which would leave the caller parked in silence); after the drain window the
// listener is closed and a new call is refused at connect, where the dialplan's fallback
// takes it.
func TestOutboundServer_CloseTurnsAwayWhatFreeSWITCHConnected(t *testing.T) {
	s, _ := limitedServer(t, 10, func(s *OutboundServer) { s.DrainWindow = 500 * time.Millisecond })
	addr := s.Addr().String()
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	waitFor(t, "the drain to begin", s.draining.Load)
	p := rawPeer(t, s)
	expectTransferAway(p)
	p.write(connectReply(t), okReply)
	if !p.eofAfter(2 * time.Second) {
		t.Error("socket of the call turned away at close still open")
	}
	must(t, <-closed)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts after Close")
	}
}
