package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/callconsent/callconsent/internal/connlimit"
)

// Bounds of the metrics listener. Any local account can connect to it, so nothing a client
// does may hold more than these: a scraper needs one connection and a few kilobytes.
const (
	DefaultMaxConns   = 16               // connections open at once; more are closed at accept
	maxHeaderBytes    = 8 << 10          // request line and headers
	readHeaderTimeout = 5 * time.Second  // a client that sends no request in time is dropped
	readTimeout       = 10 * time.Second // the whole request (GET: headers only)
	writeTimeout      = 15 * time.Second // the whole answer
	idleTimeout       = 30 * time.Second // a kept-alive connection between two scrapes
	gatherTimeout     = 10 * time.Second // promhttp's bound on one gather
	maxScrapes        = 4                // /metrics gathers at once; more get 503
)

// Server serves /metrics (the Registry, and Go and process metrics), /healthz (the process
// answers) and /readyz (Readiness) over plain HTTP on one listener. New → Open → Close.
type Server struct {
	addr  string
	reg   *Registry
	ready *Readiness
	log   *slog.Logger

	// MaxConns bounds the connections open at once (DefaultMaxConns when zero); one beyond
	// it is closed as soon as it is accepted. Set it before Open.
	MaxConns int

	// headerTimeout is readHeaderTimeout; tests shorten it.
	headerTimeout time.Duration

	ln    net.Listener
	srv   *http.Server
	done  chan struct{}
	limit *connlimit.Listener // the bound on open connections, under TLS when there is one
}

// NewServer returns a Server for addr (host:port; port 0 picks a free one). logger gets the
// attribute system=metrics.
func NewServer(addr string, reg *Registry, ready *Readiness, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	return &Server{addr: addr, reg: reg, ready: ready, log: logger.With("system", "metrics"), headerTimeout: readHeaderTimeout}
}

// Open listens and starts serving in a goroutine that Close waits for.
func (s *Server) Open(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("metrics: listen on %s: %w: another process holds the port and could answer scrapes "+
			"in callconsent's name; stop it, or set metrics-listen to another port (\"\" turns the listener off)", s.addr, err)
	} else if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", s.addr, err)
	}
	maxConns := s.MaxConns
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	s.limit = connlimit.New(ln, maxConns)
	s.ln = s.limit
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg.Gatherer(), promhttp.HandlerOpts{
		ErrorLog: errorLog{s.log}, ErrorHandling: promhttp.ContinueOnError,
		MaxRequestsInFlight: maxScrapes, Timeout: gatherTimeout,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: s.headerTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics server stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on, once open.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Refused is how many connections were closed at accept because MaxConns were open.
func (s *Server) Refused() int64 { return s.limit.Refused() }

// Close stops listening, lets the requests under way finish for up to 2 s, then closes every
// connection, and waits for the serving goroutine.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	<-s.done
	s.srv = nil
	return err
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	results, ok := s.ready.Ready(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprint(w, Text(results))
}

// errorLog adapts slog to promhttp's error logger.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) { l.log.Error("metrics gather failed", "err", fmt.Sprint(v...)) }
