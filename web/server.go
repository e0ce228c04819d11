// Package web is the console for line managers and the security officer: pages rendered on
// the server with html/template, a little JavaScript served as files, and audio streamed with
// range requests. It decides nothing on its own: who may search, listen, export or manage
// access is the access service's answer (Auth, Calls, Officer), which also keeps the audit log.
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Bounds of the listener. The console is reached by people on a browser: a handful of
// connections each, small forms. A flood of connections or a slow client holds no more.
const (
	DefaultMaxConns   = 64
	maxHeaderBytes    = 16 << 10
	maxFormBytes      = 64 << 10
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second // a page or a download to a client that reads nothing
	audioTimeout      = 15 * time.Minute // one audio response: a player streams and seeks
)

// Config is what New needs. Auth, Calls, Officer and Pseudonym are required.
type Config struct {
	Addr     string // host:port; port 0 picks a free one
	CertFile string // TLS certificate and key; both empty means plain HTTP (loopback only)
	KeyFile  string

	Location *time.Location // dates are shown in it (stored UTC); nil is UTC

	Auth    Auth
	Calls   Calls
	Officer Officer
	// Pseudonym turns a caller's number into the stored pseudonym; the number goes no further.
	Pseudonym func(number string) string

	Logger   *slog.Logger
	Now      func() time.Time
	MaxConns int // DefaultMaxConns when zero
}

// Server is the console's HTTP server. New → Open → Close.
type Server struct {
	cfg     Config
	log     *slog.Logger
	pages   *pages
	listens *listenTokens

	// writeTimeout and audioTimeout bound one response (tests shorten them).
	writeTimeout, audioTimeout time.Duration

	ln      net.Listener
	srv     *http.Server
	done    chan struct{}
	refused atomic.Int64
}

// New returns a Server; nothing listens before Open.
func New(cfg Config) (*Server, error) {
	if cfg.Auth == nil || cfg.Calls == nil || cfg.Officer == nil || cfg.Pseudonym == nil {
		return nil, errors.New("web: Auth, Calls, Officer and Pseudonym are required")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p, err := loadPages(cfg.Location)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, log: cfg.Logger.With("system", "web"), pages: p,
		listens: newListenTokens(cfg.Now), writeTimeout: writeTimeout, audioTimeout: audioTimeout}, nil
}

// Open listens on Addr (with TLS when a certificate is configured) and serves in a goroutine
// that Close waits for.
func (s *Server) Open(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("web: listen on %s: %w: another process holds the port; stop it, or set web-listen to another port (\"\" turns the console off)", s.cfg.Addr, err)
	} else if err != nil {
		return fmt.Errorf("web: listen on %s: %w", s.cfg.Addr, err)
	}
	maxConns := s.cfg.MaxConns
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	s.ln = &limitListener{Listener: ln, slots: make(chan struct{}, maxConns), refused: &s.refused}
	if s.cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.CertFile, s.cfg.KeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("web: load web-cert and web-key: %w", err)
		}
		s.ln = tls.NewListener(s.ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("web server stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on, once open.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL is the console's base URL, once open.
func (s *Server) URL() string {
	scheme := "http"
	if s.cfg.CertFile != "" {
		scheme = "https"
	}
	return scheme + "://" + s.Addr().String()
}

// Refused is how many connections were closed at accept because MaxConns were open.
func (s *Server) Refused() int64 { return s.refused.Load() }

// Close stops listening, lets requests under way finish for up to 2 s (an audio stream is cut
// then), and waits for the serving goroutine.
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

// limitListener closes a connection at accept when slots connections are open already.
type limitListener struct {
	net.Listener
	slots   chan struct{}
	refused *atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			l.refused.Add(1) // before the close, which the client may see at once
			c.Close()
		}
	}
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
