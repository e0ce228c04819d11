package fakefs

import (
	"context"
	"time"
)

// Shutdown reproduces `fsctl shutdown` (i-fs-shutdown): every live call hangs up with
// SYSTEM_SHUTDOWN (normal hangup sequence on its socket, events on the control
// connections), then after Config.ShutdownDelay every remaining connection gets the
// "The system is being shut down." notice and is closed, and the listener stops.
// Restart brings the listener back on the same address. Shutdown blocks until done or
// ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.stopping || s.closed {
		s.mu.Unlock()
		return nil
	}
	s.stopping = true
	calls := s.callsLocked()
	s.mu.Unlock()
	for _, c := range calls {
		c.post(func() { c.hangup("SYSTEM_SHUTDOWN") })
	}
	t := time.NewTimer(s.cfg.ShutdownDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	s.stopListenerLocked()
	conns := s.inboundLocked()
	calls = s.callsLocked()
	s.mu.Unlock()
	notice := appendNotice(nil, "", "", shutdownText)
	for _, ic := range conns {
		ic.closeAfter(notice)
	}
	for _, c := range calls { // lingering sockets included
		c.post(func() {
			c.closeSocket(appendNotice(nil, c.b.uuid, "disconnect", shutdownText))
			c.done = true
		})
	}
	return nil
}
