package esl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/percipia/eslgo/command"
)

// errConnGone is what every command on a dead connection returns; the adapters translate it into
// consent.ErrChannelGone or consent.ErrNotReady at their edge.
var errConnGone = errors.New("esl: connection gone")

// errReplyTimeout closes a connection whose peer did not answer a command in time: the late reply
// would otherwise be taken for the answer to the next command (eslgo bug 2).
var errReplyTimeout = errors.New("esl: reply timeout")

// errNotSent marks a command that send gave up on before writing a byte of it (the caller's
// ctx had already ended, or the connection was gone): the peer cannot have acted on it.
var errNotSent = errors.New("esl: command not sent")

// errDisconnected means FreeSWITCH said goodbye (disconnect notice other than linger).
var errDisconnected = errors.New("esl: disconnected by freeswitch")

// maxOwed bounds the replies a connection may owe to commands whose caller gave up: a peer
// that leaves that many unanswered is not answering, and the connection is closed.
const maxOwed = 4

// pending is a command waiting for its reply.
type pending struct {
	slot chan frame // buffered: the reader never blocks on it
	api  bool       // an api command, answered with api/response
}

// answers reports whether f can be the reply to the command. FreeSWITCH answers an api command
// with api/response, or with a command/reply -ERR when it refuses to run it (permission denied,
// not authenticated), and every other command with command/reply: anything else is a reply to
// some other command, and the connection is out of step.
func (p *pending) answers(f frame) bool {
	switch ct := f.contentType(); {
	case ct == typeAPI:
		return p.api
	case ct == typeReply && p.api:
		return strings.HasPrefix(f.replyText(), "-ERR")
	default:
		return ct == typeReply
	}
}

// conn is one ESL connection with a single ordered reader. Replies go to the one command in
// flight, events are handed to onEvent in arrival order on the reader goroutine, so a listener
// never sees events reordered (eslgo runs each listener call in its own goroutine, bug 5).
type conn struct {
	nc       net.Conn
	br       *bufio.Reader // only the reader goroutine uses it; nil while a quiet connection waits
	isQuiet  atomic.Bool   // see quiet (idle_read.go)
	log      *slog.Logger
	onEvent  func(event)   // runs on the reader goroutine: must not block
	authReq  chan struct{} // an auth/request arrived (inbound connections)
	onLinger func()        // a linger disconnect notice arrived (may be nil)

	cmdMu sync.Mutex // one command at a time (eslgo bugs 1 and 4)

	mu      sync.Mutex
	waiting *pending // the command in flight; nil when none
	owed    []bool   // replies still owed to commands whose caller gave up, oldest first: api or not

	lastRecv  atomic.Int64 // unix nanoseconds of the last frame read, for liveness checks
	done      chan struct{}
	closeOnce sync.Once
	err       error // why the connection ended; set before done is closed
}

func newConn(nc net.Conn, log *slog.Logger, onEvent func(event)) *conn {
	c := &conn{
		nc:      nc,
		br:      bufio.NewReaderSize(nc, readBufBytes),
		log:     log,
		onEvent: onEvent,
		authReq: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	c.lastRecv.Store(time.Now().UnixNano())
	return c
}

// start runs the reader. Call it once, after the hooks are set.
func (c *conn) start() { go c.readLoop() }

// fail ends the connection with err; the first cause wins.
func (c *conn) fail(err error) {
	c.closeOnce.Do(func() {
		c.err = err
		_ = c.nc.Close()
		close(c.done)
	})
}

// cause returns why the connection ended, nil while it is up.
func (c *conn) cause() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// idle is how long nothing has arrived from the peer.
func (c *conn) idle() time.Duration {
	return time.Since(time.Unix(0, c.lastRecv.Load()))
}

func (c *conn) readLoop() {
	defer func() {
		// A reader that dies must never die silently (eslgo bug 3) nor take the process along.
		if r := recover(); r != nil {
			c.log.Error("esl reader panic", "stack", string(debug.Stack()))
			c.fail(fmt.Errorf("esl: reader panic"))
		}
	}()
	for {
		f, err := c.nextFrame()
		if err != nil {
			c.fail(fmt.Errorf("esl: read: %w", err))
			return
		}
		c.lastRecv.Store(time.Now().UnixNano())
		if err := c.dispatch(f); err != nil {
			c.fail(err)
			return
		}
	}
}

func (c *conn) dispatch(f frame) error {
	switch ct := f.contentType(); ct {
	case typeReply, typeAPI:
		return c.deliverReply(f)
	case typeEvent:
		if c.onEvent == nil {
			return nil // the control connection: HEARTBEAT only, which counts as a sign of life
		}
		e, err := parseEvent(f.body)
		if err != nil { // one bad event does not desync the stream: drop it, keep reading
			c.log.Warn("esl dropped malformed event", logKeyErr, err)
			return nil
		}
		c.onEvent(e)
	case typeAuth:
		select {
		case c.authReq <- struct{}{}:
		default:
		}
	case typeDisconnect:
		if f.h.raw("Content-Disposition") == "linger" {
			if c.onLinger != nil {
				c.onLinger()
			}
			return nil
		}
		return errDisconnected
	case typeRude:
		return fmt.Errorf("esl: rejected by freeswitch acl")
	default:
		// Unknown types (log/data, ...) are framed like any other: skip them instead of dying.
		c.log.Debug("esl ignored frame", "content_type", ct)
	}
	return nil
}

// deliverReply hands a reply to the command it answers. Replies come in command order, so
// those owed to abandoned commands come first; a reply that cannot be the answer it is due as
// (its kind differs), or that no command waits for, means the peer is out of step with us (or
// lying), and the connection is closed rather than a reply given to the wrong command.
func (c *conn) deliverReply(f frame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case len(c.owed) > 0:
		if p := (pending{api: c.owed[0]}); !p.answers(f) {
			return fmt.Errorf("esl: %s where the reply to an abandoned %s was due", f.contentType(), kindOf(&p))
		}
		c.owed = c.owed[1:]
	case c.waiting != nil:
		if !c.waiting.answers(f) {
			return fmt.Errorf("esl: %s in reply to an %s", f.contentType(), kindOf(c.waiting))
		}
		c.waiting.slot <- f
		c.waiting = nil
	default:
		return fmt.Errorf("esl: %s without a command", f.contentType())
	}
	return nil
}

func kindOf(p *pending) string {
	if p.api {
		return "api command"
	}
	return "other command"
}

// send writes one command and waits for its reply, at most timeout (or until ctx ends). A
// missing reply closes the connection. A ctx already done when the command's turn comes means
// nothing is written at all (the error wraps errNotSent and ctx.Err()): a daemon shutting down
// must not start on FreeSWITCH what it will not be there to finish.
func (c *conn) send(ctx context.Context, timeout time.Duration, cmd command.Command) (frame, error) {
	msg := wireMessage(cmd)
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	if err := c.cause(); err != nil {
		return frame{}, fmt.Errorf("%w: %w: %v", errNotSent, errConnGone, err)
	}
	if err := ctx.Err(); err != nil { // checked after the lock: the wait for it may be long
		return frame{}, fmt.Errorf("%w: %w", errNotSent, err)
	}
	deadline := time.Now().Add(timeout)
	ctxBound := false // the caller's deadline comes first: its expiry is not the peer's fault
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, ctxBound = d, true
	}
	p := &pending{slot: make(chan frame, 1), api: strings.HasPrefix(msg, "api ")}
	c.mu.Lock()
	c.waiting = p
	c.mu.Unlock()

	_ = c.nc.SetWriteDeadline(deadline)
	if _, err := c.nc.Write([]byte(msg)); err != nil {
		c.fail(fmt.Errorf("esl: write: %w", err))
		return frame{}, fmt.Errorf("%w: %v", errConnGone, err)
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case f := <-p.slot:
		return f, nil
	case <-c.done:
		select { // the reply may have come just before the end: it still counts
		case f := <-p.slot:
			return f, nil
		default:
		}
		return frame{}, fmt.Errorf("%w: %v", errConnGone, c.err)
	case <-timer.C:
		if ctxBound {
			c.abandon(p)
			return frame{}, context.DeadlineExceeded
		}
		c.fail(errReplyTimeout)
		return frame{}, fmt.Errorf("%w: %v", errConnGone, errReplyTimeout)
	case <-ctx.Done():
		c.abandon(p)
		return frame{}, ctx.Err()
	}
}

// abandon gives up on a reply that has not arrived yet; the reader then discards it when it
// comes, so it cannot be taken for the answer to the next command. A peer that owes more than
// maxOwed replies is not answering: the connection is closed.
func (c *conn) abandon(p *pending) {
	c.mu.Lock()
	if c.waiting != p {
		c.mu.Unlock()
		return // the reply came meanwhile: nothing is owed
	}
	c.waiting = nil
	c.owed = append(c.owed, p.api)
	over := len(c.owed) > maxOwed
	c.mu.Unlock()
	if over {
		c.fail(errReplyTimeout)
	}
}

// exit says goodbye (exit) with a short deadline and closes the connection.
func (c *conn) exit(timeout time.Duration) {
	if c.cause() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		_, _ = c.send(ctx, timeout, command.Exit{})
		cancel()
	}
	c.fail(errors.New("esl: closed"))
}
