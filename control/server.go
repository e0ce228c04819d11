package control

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Limits bound the control socket. Only the service account and root can connect (mode
// 0600), but a stuck or runaway client must still not grow the daemon, hold it up, or keep
// `status` from answering the next health check. Zero fields mean the defaults below.
type Limits struct {
	MaxRequest  int           // bytes of one request line, newline included
	MaxConns    int           // requests served at once; as many more are answered "busy"
	RequestWait time.Duration // to send the request line after connecting
	AnswerWait  time.Duration // to handle the request and write the answer
}

// Defaults of Limits. A request is a line of JSON of well under a KiB (a withdrawal with its
// reason); the CLI sends it as soon as it is connected.
const (
	defaultMaxRequest  = 64 << 10
	defaultMaxConns    = 16
	defaultRequestWait = 5 * time.Second
	defaultAnswerWait  = 60 * time.Second
)

// withDefaults fills the zero fields of l with the defaults.
func (l Limits) withDefaults() Limits {
	l.MaxRequest = cmp.Or(l.MaxRequest, defaultMaxRequest)
	l.MaxConns = cmp.Or(l.MaxConns, defaultMaxConns)
	l.RequestWait = cmp.Or(l.RequestWait, defaultRequestWait)
	l.AnswerWait = cmp.Or(l.AnswerWait, defaultAnswerWait)
	return l
}

// Server answers requests on the control socket with a Handler. Listen takes the socket,
// Open starts answering, Close stops. The daemon takes the socket first of all, to find out
// whether another daemon runs, and answers only once its handler is ready: requests wait in
// the listen queue meanwhile.
type Server struct {
	path    string
	handler Handler
	log     *slog.Logger

	// Limits bound the socket; zero fields mean the defaults. Set before Open.
	Limits Limits
	// OnPanic, when set, is told of each panic recovered while a request was handled, after
	// the Server logged it; the daemon counts it as an alarm. Set before Open.
	OnPanic func(*consent.PanicError)

	ln     net.Listener
	stop   chan struct{} // closed by Close: the accept loop ends
	wg     sync.WaitGroup
	closed bool
}

// NewServer returns a Server for the unix socket at path that hands requests to h. Nothing is
// bound until Listen or Open.
func NewServer(path string, h Handler, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	return &Server{path: path, handler: h, log: logger.With("system", "control-socket")}
}

// Listen takes the control socket (mode 0600: only the service account, and root, may talk to
// the daemon). A socket with a live daemon behind it is a conflict, not something to steal:
// that daemon's pending calls are not ours to abandon. A stale socket file from a crashed
// daemon is replaced. Requests wait in the listen queue until Open.
func (s *Server) Listen() error {
	if s.ln != nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("control socket folder: %w", err)
	}
	if c, err := net.DialTimeout("unix", s.path, time.Second); err == nil {
		c.Close()
		return consent.Errorf(consent.ECONFLICT, "another callconsent daemon is running (control socket %s answers)", s.path)
	} else if _, statErr := os.Lstat(s.path); statErr == nil {
		os.Remove(s.path)
	}
	ln, err := net.Listen("unix", s.path)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(s.path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("control socket: %w", err)
	}
	s.ln = ln
	return nil
}

// Open starts answering requests, taking the socket first if Listen did not. Requests are
// handled with a context that carries ctx's values but not its cancellation: a withdrawal
// under way is finished, and Close waits for it.
func (s *Server) Open(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.stop = make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.acceptLoop(context.WithoutCancel(ctx))
	}()
	return nil
}

// Close stops answering, waits for the requests being handled, and removes the socket file.
// Calling it again does nothing.
func (s *Server) Close() error {
	if s.closed || s.ln == nil {
		return nil
	}
	s.closed = true
	if s.stop != nil {
		close(s.stop)
	}
	err := s.ln.Close()
	s.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	if rmErr := os.Remove(s.path); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
		err = errors.Join(err, rmErr)
	}
	return err
}
