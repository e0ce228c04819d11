// Package connlimit bounds the connections a listener keeps open: one more than the bound is
// closed at accept (and counted), so that a flood of idle connections holds at most that many
// descriptors and goroutines, and the listen queue keeps draining (a blocked Accept would leave
// every new client waiting there). The metrics and web servers use it.
package connlimit

import (
	"net"
	"sync"
	"sync/atomic"
)

// Listener is a net.Listener that keeps at most Max connections open.
type Listener struct {
	net.Listener
	slots   chan struct{}
	refused atomic.Int64
}

// New returns ln bounded to limit open connections (at least 1).
func New(ln net.Listener, limit int) *Listener {
	return &Listener{Listener: ln, slots: make(chan struct{}, max(limit, 1))}
}

// Accept returns the next connection while fewer than the bound are open; the ones beyond it
// are closed as they come and counted.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &conn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			l.refused.Add(1) // before the close: a peer that sees it closed finds it counted
			c.Close()
		}
	}
}

// Refused is how many connections were closed at accept because the bound was reached.
func (l *Listener) Refused() int64 { return l.refused.Load() }

// Open is how many accepted connections are open now.
func (l *Listener) Open() int { return len(l.slots) }

// conn gives its slot back once, when closed.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
