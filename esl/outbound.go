package esl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/percipia/eslgo/command"
)

// Log keys. Values logged are UUIDs, app names and error causes, never caller ids or event
// bodies: both hold personal data.
const (
	logKeySystem = "system"
	logKeyUUID   = "uuid"
	logKeyErr    = "err"
)

// OutboundServer accepts the calls FreeSWITCH hands over with `socket <addr> async full` and
// runs the handler for each as a consent.Channel. It binds its own listener (eslgo's
// ListenAndServe can be neither stopped nor asked for a :0 port, bug 10).
type OutboundServer struct {
	// CommandTimeout bounds each command's reply; a missing reply closes the call's socket.
	CommandTimeout time.Duration // default 5 s
	// LivenessInterval: after this long without any frame from FreeSWITCH the channel sends
	// `api status`; no reply within CommandTimeout ends the channel (ErrChannelGone). Negative
	// disables it.
	LivenessInterval time.Duration // default 30 s
	// AppTimeout bounds the wait for an application that completes at once (answer,
	// flush_dtmf, transfer); without its EXECUTE_COMPLETE in time the call's socket is closed
	// (ErrChannelGone). The playbacks of the notice are bounded by the caller's ctx.
	AppTimeout time.Duration // default 10 s
	// RecordStopGrace is how long WaitEnd waits for RECORD_STOP after HANGUP_COMPLETE.
	RecordStopGrace time.Duration // default 2 s
	// ShutdownTimeout bounds how long Close waits for running handlers.
	ShutdownTimeout time.Duration // default 10 s
	// MaxCalls bounds the calls handled at once; 0 means no bound. A connection beyond it is
	// turned away at once (see overflow.go): transferred to OverflowTransfer unrecorded. Set
	// it before Open.
	MaxCalls int
	// OverflowTransfer is where a call beyond MaxCalls goes (required with MaxCalls), and
	// where Close sends the calls FreeSWITCH connected while it was closing.
	OverflowTransfer string
	// DrainWindow is how long Close keeps accepting, to turn away (transfer unrecorded) the
	// calls FreeSWITCH has already connected, before it closes the listener; default 100 ms.
	DrainWindow time.Duration
	// OverflowTimeout bounds the exchange that turns a call away.
	OverflowTimeout time.Duration // default OverflowTimeout
	// IDs, when set, learns FreeSWITCH's spelling of every live call's UUID that is not
	// lower case; give the same table to the Control that acts on these calls.
	IDs *ChannelIDs

	addr    string
	handler func(ctx context.Context, ch consent.Channel)
	log     *slog.Logger

	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[*conn]struct{}

	active      atomic.Int64  // calls being handled: only the accept loop adds
	overflows   atomic.Int64  // connections turned away over MaxCalls, since Open
	slots       chan struct{} // calls being turned away, at most OverflowSlots
	overflowLog overflowLog
	draining    atomic.Bool   // Close has begun: every accepted call is turned away
	acceptDone  chan struct{} // closed when the accept loop returns
}

// NewOutboundServer returns a server for addr (host:port; port 0 picks a free one).
func NewOutboundServer(addr string, handler func(ctx context.Context, ch consent.Channel), logger *slog.Logger) *OutboundServer {
	if logger == nil {
		logger = slog.Default()
	}
	return &OutboundServer{addr: addr, handler: handler, log: logger.With(logKeySystem, "esl"), conns: map[*conn]struct{}{},
		slots: make(chan struct{}, OverflowSlots)}
}

// Active is the number of calls being handled.
func (s *OutboundServer) Active() int { return int(s.active.Load()) }

// Overflows is the number of connections turned away over MaxCalls.
func (s *OutboundServer) Overflows() int64 { return s.overflows.Load() }

func (s *OutboundServer) commandTimeout() time.Duration {
	return orDefault(s.CommandTimeout, 5*time.Second)
}
func (s *OutboundServer) appTimeout() time.Duration { return orDefault(s.AppTimeout, 10*time.Second) }
func (s *OutboundServer) recordStopGrace() time.Duration {
	return orDefault(s.RecordStopGrace, 2*time.Second)
}
func (s *OutboundServer) exitTimeout() time.Duration { return min(s.commandTimeout(), time.Second) }

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Open binds the listener and starts accepting. Handlers get a context that only Close cancels:
// ctx bounds the opening, and its values are kept.
func (s *OutboundServer) Open(ctx context.Context) error {
	if s.MaxCalls > 0 {
		if err := checkArg("overflow transfer target", s.OverflowTransfer, true); err != nil {
			return fmt.Errorf("%w: %v", errNoOverflowTransfer, err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("esl outbound listen: %w", err)
	}
	s.ln = ln
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.log.Info("esl outbound listening", "addr", ln.Addr().String())
	s.wg.Add(1)
	s.acceptDone = make(chan struct{})
	go s.acceptLoop()
	return nil
}

// Addr is the address the server listens on, with the real port; nil before Open.
func (s *OutboundServer) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close stops accepting, cancels the handlers' context and waits for them up to
// ShutdownTimeout; after that it closes their sockets and waits a little more.
func (s *OutboundServer) Close() error {
	if s.ln == nil {
		return nil
	}
	s.drain()
	err := s.ln.Close()
	s.cancel()
	if !waitTimeout(&s.wg, orDefault(s.ShutdownTimeout, 10*time.Second)) {
		s.mu.Lock()
		for c := range s.conns {
			c.fail(errors.New("esl: server closed"))
		}
		s.mu.Unlock()
		if !waitTimeout(&s.wg, time.Second) {
			return fmt.Errorf("esl outbound close: handlers still running")
		}
	}
	s.overflowLog.flush(s)
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// drain turns away the calls FreeSWITCH connected while the daemon stops: closing the
// listener would reset the connections the kernel already completed and queued for Accept,
// and FreeSWITCH parks a channel whose socket fails before it parked it, with nothing to end
// that park (see overflow.go). For DrainWindow the accept loop takes what is queued, and what
// arrives meanwhile, and sends each the transfer; the listener then closes, so that later
// calls are refused at connect and take the dialplan's fallback.
func (s *OutboundServer) drain() {
	dl, ok := s.ln.(interface{ SetDeadline(time.Time) error })
	if !ok || s.OverflowTransfer == "" {
		return
	}
	s.draining.Store(true)
	_ = dl.SetDeadline(time.Now().Add(orDefault(s.DrainWindow, 100*time.Millisecond)))
	select { // the accept loop ends at the deadline; the handlers are Close's business
	case <-s.acceptDone:
	case <-time.After(orDefault(s.DrainWindow, 100*time.Millisecond) + time.Second):
	}
}

// acceptLoop keeps accepting until the listener is closed; other Accept errors (out of file
// descriptors) are retried with a pause, where eslgo's loop would stop for good. Beyond
// MaxCalls a connection is turned away at once.
func (s *OutboundServer) acceptLoop() {
	defer s.wg.Done()
	defer close(s.acceptDone)
	pause := 5 * time.Millisecond
	for {
		nc, err := s.ln.Accept()
		var ne net.Error
		if errors.Is(err, net.ErrClosed) || err != nil && s.draining.Load() && errors.As(err, &ne) && ne.Timeout() {
			return
		} else if err != nil {
			s.log.Warn("esl outbound accept", logKeyErr, err)
			select {
			case <-time.After(pause):
			case <-s.ctx.Done():
				return
			}
			pause = min(2*pause, time.Second)
			continue
		}
		pause = 5 * time.Millisecond
		if s.draining.Load() && s.OverflowTransfer != "" || s.MaxCalls > 0 && s.active.Load() >= int64(s.MaxCalls) {
			s.overflow(nc)
			continue
		}
		s.active.Add(1)
		s.wg.Add(1)
		go s.serve(nc)
	}
}

func (s *OutboundServer) serve(nc net.Conn) {
	defer s.wg.Done()
	defer s.active.Add(-1)
	ch := newChannel(s, s.log)
	c := newConn(nc, s.log, ch.handleEvent)
	ch.c = c
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	c.start()
	defer ch.Close()

	if err := s.setup(ch); err != nil {
		s.log.Warn("esl outbound setup failed", logKeyUUID, ch.uuid, logKeyErr, err)
		return
	}
	s.log.Info("esl call accepted", logKeyUUID, ch.uuid)
	s.IDs.add(ch.uuid, ch.fsID)
	defer s.IDs.remove(ch.uuid)
	defer s.liveness(c)()
	s.runHandler(ch)
}

// setup sends connect and the subscriptions. myevents does not include RECORD_*, hence the
// extra event command; linger keeps FreeSWITCH from dropping queued events (RECORD_STOP) when
// the call ends. Linger.Seconds is a plain count in a time.Duration (eslgo bug 9).
func (s *OutboundServer) setup(ch *channel) error {
	ctx, cancel := context.WithTimeout(s.ctx, 4*s.commandTimeout())
	defer cancel()
	f, err := ch.c.send(ctx, s.commandTimeout(), command.Connect{})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if !f.ok() {
		return fmt.Errorf("connect refused")
	}
	fsID := f.h.get("Unique-ID")
	uuid, ok := consent.CanonicalUUID(fsID)
	if !ok {
		return fmt.Errorf("connect reply without a valid Unique-ID")
	}
	ch.mu.Lock() // the reader goroutine filters events by uuid
	ch.data, ch.uuid, ch.fsID = newCallData(f.h), uuid, fsID
	ch.mu.Unlock()
	for _, cmd := range []command.Command{
		command.Linger{Enabled: true, Seconds: 30},
		command.MyEvents{Format: "plain"},
		command.Event{Format: "plain", Listen: []string{"RECORD_START", "RECORD_STOP"}},
	} {
		f, err := ch.c.send(ctx, s.commandTimeout(), cmd)
		if err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		if !f.ok() {
			return fmt.Errorf("subscribe refused: %s", f.replyText())
		}
	}
	return nil
}

func (s *OutboundServer) runHandler(ch *channel) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("esl call handler panic", logKeyUUID, ch.uuid, "stack", string(debug.Stack()))
		}
	}()
	s.handler(s.ctx, ch)
}

// liveness probes a silent socket: our reader cannot die unnoticed, but a hung peer (or one
// that stopped mid-frame) would leave every wait hanging; a probe without reply closes it. It
// runs on a timer rather than a goroutine of its own: a call in conversation is silent for
// minutes, and a goroutine per call that waits for a tick is memory (issue 13, target 8). The
// probe runs in the timer's goroutine, and the next tick is set once it is done.
func (s *OutboundServer) liveness(c *conn) (stop func()) {
	every := orDefault(s.LivenessInterval, 30*time.Second)
	if every < 0 {
		return func() {}
	}
	var (
		mu      sync.Mutex
		t       *time.Timer
		stopped bool
	)
	tick := func() {
		if c.cause() != nil {
			return
		}
		if c.idle() >= every {
			_, _ = c.send(context.Background(), s.commandTimeout(), command.API{Command: "status"})
		}
		mu.Lock()
		if !stopped && c.cause() == nil {
			t.Reset(every / 2)
		}
		mu.Unlock()
	}
	mu.Lock()
	t = time.AfterFunc(every/2, tick)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}
