package esl

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/percipia/eslgo/command"
	"github.com/percipia/eslgo/command/call"
)

// A call beyond OutboundServer.MaxCalls is turned away at once, unrecorded and without a row:
// the accept loop writes connect and a sendmsg execute of transfer to OverflowTransfer in one
// write (they fit any socket buffer, so it never waits), and FreeSWITCH queues the transfer,
// which its socket application runs as soon as it parks the channel, whenever the socket
// closes. Then, in one of at most OverflowSlots goroutines, FreeSWITCH's two replies are read
// (at most OverflowTimeout) and the socket closed; with every slot busy (peers that do not
// answer), it is closed at once. So what is over the limit costs at most OverflowSlots
// goroutines and sockets, each for at most OverflowTimeout.
//
// The transfer is sent before anything can go wrong, because merely closing the socket is no
// fail-safe: FreeSWITCH 1.11 parks a channel whose socket closes before its socket application
// has parked it, and nothing ends that park (the caller hears silence until they hang up; seen
// with the real switch in esl/realfs). A transfer queued beforehand ends it.
const (
	// OverflowSlots bounds the calls whose replies are awaited at once (see above).
	OverflowSlots = 16
	// OverflowTimeout bounds the wait for FreeSWITCH's replies to a call turned away.
	OverflowTimeout = 2 * time.Second
	// overflowLogEvery is the most often calls turned away are logged: a flood must not
	// flood the log too.
	overflowLogEvery = 10 * time.Second
)

// errNoOverflowTransfer: a call limit without a target would leave a caller turned away
// with nowhere to go.
var errNoOverflowTransfer = errors.New("esl outbound: MaxCalls needs an OverflowTransfer target")

// overflow turns away a connection beyond MaxCalls (see above). It runs on the accept loop.
// The slot is taken before the transfer is written, so that a peer that has read the
// transfer finds its call already counted among those turned away.
func (s *OutboundServer) overflow(nc net.Conn) {
	s.overflows.Add(1)
	slot := false
	select {
	case s.slots <- struct{}{}:
		slot = true
	default:
	}
	_ = nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	msg := wireMessage(command.Connect{}) + wireMessage(&call.Execute{AppName: "transfer", AppArgs: s.OverflowTransfer, AppUUID: newUUID()})
	if _, err := nc.Write([]byte(msg)); err != nil {
		nc.Close()
		if slot {
			<-s.slots
		}
		s.overflowLog.note(s, "", fmt.Errorf("write: %w", err))
		return
	}
	if !slot {
		nc.Close()
		s.overflowLog.note(s, "", errors.New("transfer sent; every slot busy, replies not awaited"))
		return
	}
	s.wg.Add(1)
	go s.turnAway(nc)
}

// turnAway reads FreeSWITCH's replies to the connect and the transfer overflow sent, then
// closes the socket.
func (s *OutboundServer) turnAway(nc net.Conn) {
	defer func() { <-s.slots; s.wg.Done() }()
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(orDefault(s.OverflowTimeout, OverflowTimeout)))
	uuid, err := transferReplies(bufio.NewReaderSize(nc, readBufBytes))
	s.overflowLog.note(s, uuid, err)
}

// transferReplies reads the replies to connect (the call's data) and to the transfer, and
// returns the call's UUID.
func transferReplies(br *bufio.Reader) (string, error) {
	f, err := nextReply(br)
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	uuid, ok := consent.CanonicalUUID(f.h.get("Unique-ID"))
	if !f.ok() || !ok {
		return "", errors.New("connect refused, or a reply without a valid Unique-ID")
	}
	if f, err = nextReply(br); err != nil {
		return uuid, fmt.Errorf("transfer: %w", err)
	} else if !f.ok() {
		return uuid, fmt.Errorf("transfer refused: %s", clip(f.replyText()))
	}
	return uuid, nil
}

// nextReply reads up to the next command/reply; nothing else is due on a socket that
// subscribed to nothing, so a few frames of anything else end the wait.
func nextReply(br *bufio.Reader) (frame, error) {
	for range 4 {
		f, err := readFrame(br)
		if err != nil {
			return frame{}, err
		}
		if f.contentType() == typeReply {
			return f, nil
		}
	}
	return frame{}, errors.New("no reply")
}

// overflowLog logs calls turned away at most once per overflowLogEvery, with the counts since
// the last line: those whose transfer FreeSWITCH acknowledged, and the others (no reply in
// time, every slot busy, or not FreeSWITCH at all).
type overflowLog struct {
	mu                     sync.Mutex
	last                   time.Time
	confirmed, unconfirmed int
}

func (l *overflowLog) note(s *OutboundServer, uuid string, err error) {
	if err != nil {
		s.log.Debug("esl call over max-calls turned away: transfer not confirmed", logKeyUUID, uuid, logKeyErr, err)
	} else {
		s.log.Debug("esl call over max-calls turned away: transferred unrecorded", logKeyUUID, uuid)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.unconfirmed++
	} else {
		l.confirmed++
	}
	if now := time.Now(); now.Sub(l.last) >= overflowLogEvery {
		l.logLocked(s, now)
	}
}

// flush logs what was counted since the last line, at Close.
func (l *overflowLog) flush(s *OutboundServer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.confirmed+l.unconfirmed > 0 {
		l.logLocked(s, time.Now())
	}
}

func (l *overflowLog) logLocked(s *OutboundServer, now time.Time) {
	s.log.Warn("esl calls over max-calls turned away to the transfer target, unrecorded", "max_calls", s.MaxCalls,
		"confirmed", l.confirmed, "unconfirmed", l.unconfirmed, "since", l.since(now))
	l.last, l.confirmed, l.unconfirmed = now, 0, 0
}

func (l *overflowLog) since(now time.Time) string {
	if l.last.IsZero() {
		return "start"
	}
	return now.Sub(l.last).Round(time.Second).String() + " ago"
}
