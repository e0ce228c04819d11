package esl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/percipia/eslgo/command"
)

// controlEvents is the explicit subscription of the control connection: HEARTBEAT alone, which
// the liveness watchdog uses (every 20 s, so no probe is needed while FreeSWITCH is well).
// Every channel's RECORD_* and CHANNEL_HANGUP_COMPLETE used to come here and reach nothing:
// the calls the daemon drives get them on their own sockets, and the rows of those it let go
// of are finished by reconcile; on a busy switch they were thousands of events to parse for
// nothing, and FreeSWITCH drops a listener 500 events behind. eslgo's EnableEvents would
// subscribe to "all" (bug 11).
var controlEvents = []string{"HEARTBEAT"}

// Control is the inbound control connection to FreeSWITCH (consent.Control). A supervisor keeps
// exactly one authenticated connection up: it reconnects forever with jittered exponential
// backoff (eslgo has no reconnect, bug 12) and treats a silent connection as dead.
type Control struct {
	// OnConnect runs after every successful (re)connect, in its own goroutine, with a context
	// that ends with that connection; the daemon reconciles its state there.
	OnConnect func(ctx context.Context)
	// CommandTimeout bounds each command's reply (and the dial and auth); a missing reply
	// closes the connection.
	CommandTimeout time.Duration // default 5 s
	// ProbeAfter: after this long without any frame (HEARTBEAT comes every 20 s) an `api status`
	// is sent; no reply within CommandTimeout means the connection is dead.
	ProbeAfter time.Duration // default 30 s
	// BackoffMin and BackoffMax bound the reconnect delay.
	BackoffMin, BackoffMax time.Duration // default 0.5 s and 30 s
	// IDs translates a live call's canonical UUID into FreeSWITCH's spelling (see ChannelIDs);
	// nil when every UUID is used as given.
	IDs *ChannelIDs
	// Owner, when set, is checked on every connection before the password is sent: the port
	// must belong to an allowed account (see OwnerCheck). nil sends it to whatever answers.
	Owner *OwnerCheck
	// OnRefused runs each time Owner refuses the peer, on the supervisor goroutine; the daemon
	// counts it as an alarm. The supervisor then retries with its backoff.
	OnRefused func()

	addr, password string
	log            *slog.Logger

	mu     sync.Mutex
	cur    *conn // the live, authenticated connection; nil when down
	ready  atomic.Bool
	cancel context.CancelFunc
	wg     sync.WaitGroup

	live, maxLive atomic.Int32 // open connections, for tests of the one-connection rule

	// The supervisor's record of failed connects since the last connection, so that a
	// FreeSWITCH that stays down is a few log lines, not one every 30 s (see connectFailed).
	failures      int
	loggedBackoff time.Duration
	loggedRefused bool
}

// NewControl returns a Control for FreeSWITCH at addr (host:port) with the given password.
func NewControl(addr, password string, logger *slog.Logger) *Control {
	if logger == nil {
		logger = slog.Default()
	}
	return &Control{addr: addr, password: password, log: logger.With(logKeySystem, "esl")}
}

func (c *Control) commandTimeout() time.Duration { return orDefault(c.CommandTimeout, 5*time.Second) }

// Open starts the supervisor and returns at once: FreeSWITCH may come up later, and until then
// Ready is false and commands return consent.ErrNotReady.
func (c *Control) Open(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	c.wg.Add(1)
	go c.supervise(ctx)
	return nil
}

// Close stops the supervisor, says goodbye to FreeSWITCH and waits for the supervisor and the
// OnConnect hooks to end.
func (c *Control) Close() error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	c.wg.Wait()
	return nil
}

// Ready implements consent.Control.
func (c *Control) Ready() bool { return c.ready.Load() }

func (c *Control) supervise(ctx context.Context) {
	defer c.wg.Done()
	lo, hi := orDefault(c.BackoffMin, 500*time.Millisecond), orDefault(c.BackoffMax, 30*time.Second)
	backoff := lo
	for {
		conn, err := c.dial(ctx)
		if err == nil {
			backoff = lo
			c.serve(ctx, conn)
		} else if ctx.Err() == nil {
			c.connectFailed(err, backoff)
		}
		// Full jitter in [backoff/2, backoff): many daemons restarted together do not reconnect
		// in lockstep, and a peer that accepts and drops at once cannot make us spin.
		delay := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if err != nil {
			backoff = min(2*backoff, hi)
		}
	}
}

// connectFailed logs a failed connect; a peer refused by Owner is a warning of its own, with
// the owner and the port (never the password), and an alarm each time. Of a run of failures,
// the first is a warning, and so is each that comes with a new backoff or a new kind of
// failure; the others, every BackoffMax once the backoff stopped growing, are debug lines.
func (c *Control) connectFailed(err error, retryIn time.Duration) {
	var refused *RefusedPeerError
	isRefused := errors.As(err, &refused)
	c.failures++
	level := slog.LevelDebug
	if c.failures == 1 || retryIn != c.loggedBackoff || isRefused != c.loggedRefused {
		level, c.loggedBackoff, c.loggedRefused = slog.LevelWarn, retryIn, isRefused
	}
	if !isRefused {
		c.log.Log(context.Background(), level, "esl control connect failed", "addr", c.addr, logKeyErr, err, "retry_in", retryIn, "failures", c.failures)
		return
	}
	c.log.Log(context.Background(), level, "esl control refused the FreeSWITCH peer: password not sent", "addr", c.addr,
		"port", refused.Addr.Port(), "uid", refused.UID, "reason", refused.Reason, "advice", c.Owner.Advice, "retry_in", retryIn, "failures", c.failures)
	if c.OnRefused != nil {
		c.OnRefused()
	}
}

// dial connects, waits for auth/request, authenticates and subscribes.
func (c *Control) dial(ctx context.Context) (*conn, error) {
	d := net.Dialer{Timeout: c.commandTimeout()}
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	if c.Owner != nil {
		// Before the reader starts: nothing is read from or written to a refused peer.
		if err := c.Owner.check(nc); err != nil {
			nc.Close()
			return nil, err
		}
	}
	conn := newConn(nc, c.log, nil)
	c.opened()
	conn.start()
	if err := c.handshake(ctx, conn); err != nil {
		c.drop(conn, err)
		return nil, err
	}
	return conn, nil
}

func (c *Control) handshake(ctx context.Context, conn *conn) error {
	timer := time.NewTimer(c.commandTimeout())
	defer timer.Stop()
	select {
	case <-conn.authReq:
	case <-conn.done:
		return fmt.Errorf("closed before auth request: %w", conn.err)
	case <-timer.C:
		return errors.New("no auth request")
	case <-ctx.Done():
		return ctx.Err()
	}
	f, err := conn.send(ctx, c.commandTimeout(), command.Auth{Password: c.password})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	if !f.ok() { // never log the password; the reply text is FreeSWITCH's own (-ERR invalid)
		return fmt.Errorf("auth rejected: %s", f.replyText())
	}
	f, err = conn.send(ctx, c.commandTimeout(), command.Event{Format: "plain", Listen: controlEvents})
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if !f.ok() {
		return fmt.Errorf("subscribe refused: %s", f.replyText())
	}
	return nil
}

// serve publishes conn, runs OnConnect, watches the connection until it dies or ctx ends, and
// withdraws it again before the supervisor may dial the next one.
func (c *Control) serve(ctx context.Context, conn *conn) {
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.mu.Lock()
	c.cur = conn
	c.mu.Unlock()
	c.ready.Store(true)
	c.log.Info("esl control connected", "addr", c.addr, "failed_attempts", c.failures)
	c.failures, c.loggedBackoff, c.loggedRefused = 0, 0, false
	if c.OnConnect != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer func() {
				if r := recover(); r != nil {
					c.log.Error("esl control OnConnect panic")
				}
			}()
			c.OnConnect(connCtx)
		}()
	}
	probeAfter := orDefault(c.ProbeAfter, 30*time.Second)
	tick := time.NewTicker(max(probeAfter/4, time.Millisecond))
	defer tick.Stop()
	for conn.cause() == nil && ctx.Err() == nil {
		select {
		case <-conn.done:
		case <-ctx.Done():
		case <-tick.C:
			if conn.idle() >= probeAfter {
				if _, err := conn.send(ctx, c.commandTimeout(), command.API{Command: "status"}); err != nil && ctx.Err() == nil {
					conn.fail(fmt.Errorf("liveness probe: %w", err))
				}
			}
		}
	}
	c.ready.Store(false)
	c.mu.Lock()
	c.cur = nil
	c.mu.Unlock()
	cause := conn.cause()
	if ctx.Err() != nil {
		conn.exit(min(c.commandTimeout(), time.Second))
	}
	c.drop(conn, cause)
}

func (c *Control) opened() {
	n := c.live.Add(1)
	for m := c.maxLive.Load(); n > m && !c.maxLive.CompareAndSwap(m, n); m = c.maxLive.Load() {
	}
}

// drop closes conn for good; the supervisor calls it exactly once per dialed connection.
func (c *Control) drop(conn *conn, cause error) {
	conn.fail(errors.New("esl: control connection dropped"))
	c.live.Add(-1)
	if cause != nil && !errors.Is(cause, context.Canceled) {
		c.log.Warn("esl control connection lost", logKeyErr, cause)
	}
}
