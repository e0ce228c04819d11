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
// FreeSWITCH is told to transfer it (connect, then a sendmsg execute of transfer; FreeSWITCH
// queues it, and when the socket closes its socket application runs what is queued before it
// returns), and the socket is closed. If that cannot be done in OverflowTimeout (FreeSWITCH
// does not answer, or the peer is not FreeSWITCH), the socket is closed all the same and
// FreeSWITCH's dialplan fallback takes the call on. At most OverflowSlots such exchanges run at
// once; beyond them a connection is closed at once. So what is over the limit costs at most
// OverflowSlots goroutines and file descriptors, each for at most OverflowTimeout.
const (
	// OverflowSlots bounds the calls being turned away at once (see above).
	OverflowSlots = 16
	// OverflowTimeout bounds the whole exchange with a call turned away.
	OverflowTimeout = 2 * time.Second
	// overflowLogEvery is the most often calls turned away are logged: a flood must not
	// flood the log too.
	overflowLogEvery = 10 * time.Second
)

// overflow turns away a connection beyond MaxCalls (see above). It runs on the accept loop.
func (s *OutboundServer) overflow(nc net.Conn) {
	if s.OnOverflow != nil {
		s.OnOverflow()
	}
	select {
	case s.slots <- struct{}{}:
		s.wg.Add(1)
		go s.turnAway(nc)
	default:
		nc.Close()
		s.overflowLog.note(s, "", errors.New("every overflow slot busy"))
	}
}

func (s *OutboundServer) turnAway(nc net.Conn) {
	defer func() { <-s.slots; s.wg.Done() }()
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(orDefault(s.OverflowTimeout, OverflowTimeout)))
	uuid, err := transferAway(nc, s.OverflowTransfer)
	s.overflowLog.note(s, uuid, err)
}

// transferAway asks FreeSWITCH, on a call's fresh outbound socket, to transfer the call to
// target, and returns the call's UUID. The caller bounds it with a deadline on nc.
func transferAway(nc net.Conn, target string) (string, error) {
	if err := checkArg("transfer target", target, true); err != nil {
		return "", err
	}
	br := bufio.NewReaderSize(nc, readBufBytes)
	f, err := exchange(nc, br, command.Connect{})
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	fsID := f.h.get("Unique-ID")
	uuid, ok := consent.CanonicalUUID(fsID)
	if !f.ok() || !ok {
		return "", errors.New("connect refused, or a reply without a valid Unique-ID")
	}
	f, err = exchange(nc, br, &call.Execute{UUID: fsID, AppName: "transfer", AppArgs: target, AppUUID: newUUID()})
	if err != nil {
		return uuid, fmt.Errorf("transfer: %w", err)
	}
	if !f.ok() {
		return uuid, fmt.Errorf("transfer refused: %s", clip(f.replyText()))
	}
	return uuid, nil
}

// exchange writes cmd and reads up to its command/reply; nothing else is due before it on a
// socket that subscribed to nothing, so a few frames of anything else end the exchange.
func exchange(nc net.Conn, br *bufio.Reader, cmd command.Command) (frame, error) {
	if _, err := nc.Write([]byte(wireMessage(cmd))); err != nil {
		return frame{}, err
	}
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
// the last line.
type overflowLog struct {
	mu                  sync.Mutex
	last                time.Time
	transferred, closed int
}

func (l *overflowLog) note(s *OutboundServer, uuid string, err error) {
	if err != nil {
		s.log.Debug("esl call over max-calls: socket closed, FreeSWITCH's dialplan fallback takes it", logKeyUUID, uuid, logKeyErr, err)
	} else {
		s.log.Debug("esl call over max-calls: transferred unrecorded", logKeyUUID, uuid)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.closed++
	} else {
		l.transferred++
	}
	if now := time.Now(); now.Sub(l.last) >= overflowLogEvery {
		s.log.Warn("esl calls over max-calls turned away, unrecorded", "max_calls", s.MaxCalls,
			"transferred", l.transferred, "closed_for_fallback", l.closed, "since", l.since(now))
		l.last, l.transferred, l.closed = now, 0, 0
	}
}

func (l *overflowLog) since(now time.Time) string {
	if l.last.IsZero() {
		return "start"
	}
	return now.Sub(l.last).Round(time.Second).String() + " ago"
}
