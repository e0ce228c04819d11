package fakefs

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// CommandRecord is one command the fake received.
type CommandRecord struct {
	Time time.Time
	// Side is "outbound" (a call's socket) or "inbound" (a control connection).
	Side string
	// Conn is the channel UUID for outbound, "inbound-<n>" for inbound.
	Conn string
	// Line is the command line; an auth password is replaced by "***".
	Line string
	// App and AppArg are execute-app-name/-arg of a sendmsg; EventUUID its Event-UUID.
	App, AppArg, EventUUID string
	// JobUUID is the Job-UUID header of a bgapi.
	JobUUID string
}

// String formats the record as one log line.
func (r CommandRecord) String() string {
	s := fmt.Sprintf("%s %s %s %q", r.Time.Format("15:04:05.000000"), r.Side, r.Conn, r.Line)
	if r.App != "" {
		s += fmt.Sprintf(" app=%s arg=%q event-uuid=%s", r.App, r.AppArg, r.EventUUID)
	}
	return s
}

type cmdLog struct {
	mu   sync.Mutex
	max  int
	recs []CommandRecord
	w    interface{ Write([]byte) (int, error) }
}

func (s *Server) logCommand(side, conn string, c *command) {
	r := CommandRecord{Time: time.Now(), Side: side, Conn: conn, Line: c.line,
		JobUUID: c.get("Job-UUID")}
	if strings.HasPrefix(r.Line, "auth ") {
		r.Line = "auth ***"
	}
	if strings.HasPrefix(strings.ToLower(r.Line), "sendmsg") {
		r.App, r.AppArg, r.EventUUID = c.get("execute-app-name"), c.get("execute-app-arg"), c.get("Event-UUID")
		if r.App == "" {
			r.App = c.get("call-command")
		}
	}
	l := &s.cmds
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.recs) >= l.max {
		l.recs = append(l.recs[:0], l.recs[len(l.recs)-l.max/2:]...) // drop the oldest half
	}
	l.recs = append(l.recs, r)
	if l.w != nil {
		fmt.Fprintln(l.w, r.String())
	}
}

// Commands returns a copy of the command log, oldest first.
func (s *Server) Commands() []CommandRecord {
	s.cmds.mu.Lock()
	defer s.cmds.mu.Unlock()
	return append([]CommandRecord(nil), s.cmds.recs...)
}

// CommandsFor returns the commands received on one connection (a channel UUID or an
// inbound connection id).
func (s *Server) CommandsFor(conn string) []CommandRecord {
	var out []CommandRecord
	for _, r := range s.Commands() {
		if r.Conn == conn {
			out = append(out, r)
		}
	}
	return out
}
