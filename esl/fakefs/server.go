package fakefs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Server. The zero value works: it listens on 127.0.0.1:0 with
// password ClueCon and the timings of a stock FreeSWITCH.
type Config struct {
	// Addr is the inbound (port 8021 style) listen address; default "127.0.0.1:0".
	Addr string
	// Password for `auth`; default "ClueCon".
	Password string
	// HeartbeatInterval between HEARTBEAT events; default 20s (FreeSWITCH's default).
	HeartbeatInterval time.Duration
	// ShutdownDelay is the silence between the shutdown hangups and the final
	// "The system is being shut down." notices; default 10s as observed in i-fs-shutdown.
	ShutdownDelay time.Duration
	// RecordingsDir resolves relative record_session paths; default
	// /var/lib/freeswitch/recordings.
	RecordingsDir string
	// RecordFlushInterval is how often growing recordings get new audio frames and an
	// updated RIFF header; default 100ms.
	RecordFlushInterval time.Duration
	// FixedMediaDuration, if > 0, replaces the duration of every prompt, invalid-input
	// and playback file (handy for load tests with long real prompts), except that a
	// playback bounded with {timeout=T} plays what FreeSWITCH would play of the real file:
	// that part is what callconsent insists a caller hears before a key counts.
	FixedMediaDuration time.Duration
	// PlaybackBlock is how many samples FreeSWITCH's playback reads from a file at once;
	// it plays every block it read, so {timeout=T} plays T rounded up to whole blocks.
	// Default 16384 (FreeSWITCH 1.11: 2.048 s at 8 kHz).
	PlaybackBlock int
	// ParkTick is how long a key pressed while no application runs waits in the channel's
	// DTMF queue before the socket application's park loop takes and drops it; an
	// application queued meanwhile gets it instead (FreeSWITCH parses queued messages before
	// it reads DTMF). Default 20 ms, one media tick.
	ParkTick time.Duration
	// DefaultMediaDuration is used for files whose length cannot be known (missing or
	// unreadable WAV, unknown scheme); default 50ms.
	DefaultMediaDuration time.Duration
	// FailRecordSession makes every record_session fail to start (no RECORD_START, no
	// file), to test the daemon's fail-safe; CallSpec.FailRecordSession does it per call.
	FailRecordSession bool
	// InboundQueue is how many events an inbound connection may fall behind before it
	// is dropped (FreeSWITCH drops at 500); default 500.
	InboundQueue int
	// Hostname is reported as FreeSWITCH-Hostname/-Switchname; default "vm".
	Hostname string
	// Location for Event-Date-Local; default time.UTC (the capture VM's clock).
	Location *time.Location
	// CommandLog, if set, receives one line per command the fake receives.
	CommandLog io.Writer
	// MaxCommands caps the in-memory command log (oldest dropped); default 100000.
	MaxCommands int
	// Logger for diagnostics; default slog.Default().
	Logger *slog.Logger
}

// Server is a fake FreeSWITCH: one inbound listener plus any number of outbound calls.
type Server struct {
	cfg         Config
	log         *slog.Logger
	loc         *time.Location
	hostHeaders string
	started     time.Time
	seq         atomic.Int64
	core        atomic.Value // string: Core-UUID, new per Open/Restart
	dateCache   atomic.Pointer[dateStamp]
	sessionSeq  atomic.Int64
	sessions    atomic.Int64 // since startup, for status/HEARTBEAT

	mu       sync.Mutex
	ln       net.Listener
	addr     string
	inbound  map[*inConn]struct{}
	calls    map[string]*call   // live channels by B-leg and A-leg UUID (until hangup)
	active   map[*call]struct{} // every call whose engine runs (lingering sockets too)
	stopping bool               // Shutdown in progress: no new calls
	closed   bool
	inSeq    int
	hbStop   chan struct{}

	subs atomic.Pointer[subIndex] // which event names some inbound conn wants
	rec  *recorder
	cmds cmdLog
	wg   sync.WaitGroup
}

// New returns a Server; call Open to start listening.
func New(cfg Config) *Server {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Password == "" {
		cfg.Password = "ClueCon"
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 20 * time.Second
	}
	if cfg.ShutdownDelay <= 0 {
		cfg.ShutdownDelay = 10 * time.Second
	}
	if cfg.RecordingsDir == "" {
		cfg.RecordingsDir = "/var/lib/freeswitch/recordings"
	}
	if cfg.RecordFlushInterval <= 0 {
		cfg.RecordFlushInterval = 100 * time.Millisecond
	}
	if cfg.DefaultMediaDuration <= 0 {
		cfg.DefaultMediaDuration = 50 * time.Millisecond
	}
	if cfg.PlaybackBlock <= 0 {
		cfg.PlaybackBlock = 16384
	}
	if cfg.ParkTick <= 0 {
		cfg.ParkTick = tick
	}
	if cfg.InboundQueue <= 0 {
		cfg.InboundQueue = 500
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "vm"
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.MaxCommands <= 0 {
		cfg.MaxCommands = 100000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "fakefs"),
		loc:     cfg.Location,
		started: time.Now(),
		inbound: map[*inConn]struct{}{},
		calls:   map[string]*call{},
		active:  map[*call]struct{}{},
	}
	host := encode(cfg.Hostname)
	s.hostHeaders = "FreeSWITCH-Hostname: " + host + "\nFreeSWITCH-Switchname: " + host +
		"\nFreeSWITCH-IPv4: 192.0.2.2\nFreeSWITCH-IPv6: fd00%3A%3A2\n"
	s.core.Store(newUUID())
	s.subs.Store(&subIndex{})
	s.cmds.max = cfg.MaxCommands
	s.cmds.w = cfg.CommandLog
	s.rec = newRecorder(s)
	return s
}

func (s *Server) now() time.Time   { return time.Now() }
func (s *Server) coreUUID() string { return s.core.Load().(string) }

// Open starts the inbound listener, the heartbeat and the recorder. ctx only bounds
// the listen call itself; use Close to stop.
func (s *Server) Open(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("fakefs: server closed")
	}
	if s.ln != nil {
		return errors.New("fakefs: already open")
	}
	addr := s.cfg.Addr
	if s.addr != "" {
		addr = s.addr // Restart: same port as before
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	s.ln, s.addr, s.stopping = ln, ln.Addr().String(), false
	s.hbStop = make(chan struct{})
	s.wg.Add(2)
	go s.acceptLoop(ln)
	go s.heartbeatLoop(s.hbStop)
	s.rec.start()
	return nil
}

// Restart reopens the inbound listener on the same address after a Shutdown, like
// starting FreeSWITCH again: new Core-UUID, Event-Sequence and uptime start over.
func (s *Server) Restart(ctx context.Context) error {
	s.core.Store(newUUID())
	s.seq.Store(0)
	s.sessions.Store(0)
	s.mu.Lock()
	s.started = time.Now()
	s.mu.Unlock()
	return s.Open(ctx)
}

// Addr returns the inbound listener's real address ("" before Open).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Close stops everything at once: listener, inbound connections, calls (their
// recordings are finalised) and waits for all goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.stopListenerLocked()
	conns := s.inboundLocked()
	calls := s.callsLocked()
	s.mu.Unlock()
	for _, ic := range conns {
		ic.close()
	}
	for _, c := range calls {
		c.abort(errors.New("fakefs: server closed"))
	}
	s.wg.Wait()
	s.rec.stop()
	return nil
}

// stopListenerLocked closes the listener and the heartbeat; s.mu must be held.
func (s *Server) stopListenerLocked() {
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	if s.hbStop != nil {
		close(s.hbStop)
		s.hbStop = nil
	}
}

func (s *Server) inboundLocked() []*inConn {
	out := make([]*inConn, 0, len(s.inbound))
	for ic := range s.inbound {
		out = append(out, ic)
	}
	return out
}

func (s *Server) callsLocked() []*call {
	out := make([]*call, 0, len(s.active))
	for c := range s.active {
		out = append(out, c)
	}
	return out
}

// lookup finds a live call by its B-leg or A-leg UUID.
func (s *Server) lookup(uuid string) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[uuid]
}

// LiveCalls returns the number of calls whose channel has not hung up yet.
func (s *Server) LiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls) / 2
}

// DropInbound cuts every inbound connection at once, without a disconnect notice, to
// test the daemon's reconnect logic. The listener stays open.
func (s *Server) DropInbound() {
	s.mu.Lock()
	conns := s.inboundLocked()
	s.mu.Unlock()
	for _, ic := range conns {
		ic.close()
	}
}

// InboundConns returns how many inbound (control) connections are open and authenticated,
// so a test can check that a reconnecting client keeps exactly one.
func (s *Server) InboundConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ic := range s.inboundLocked() {
		if ic.authed.Load() {
			n++
		}
	}
	return n
}
