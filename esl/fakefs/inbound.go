package fakefs

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// inConn is one inbound (control) connection. A writer goroutine drains q so that a
// slow reader never blocks a call; like FreeSWITCH, a connection that falls
// Config.InboundQueue messages behind is dropped.
type inConn struct {
	s      *Server
	id     string
	conn   net.Conn
	q      chan []byte
	done   chan struct{}
	closed sync.Once

	mu     sync.Mutex
	subs   map[string]bool
	all    bool
	authed atomic.Bool // for Server.InboundConns
}

// subIndex tells publishers cheaply whether any inbound connection wants an event, so
// events nobody subscribed to are never built.
type subIndex struct {
	names map[string]int
	all   int
	conns []subscriber // snapshot, so publishing takes no lock
}

type subscriber struct {
	ic    *inConn
	all   bool
	names map[string]bool
}

func (x *subIndex) wants(name string) bool { return x.all > 0 || x.names[name] > 0 }

func (s *Server) rebuildSubs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := &subIndex{names: map[string]int{}}
	for ic := range s.inbound {
		ic.mu.Lock()
		sub := subscriber{ic: ic, all: ic.all, names: make(map[string]bool, len(ic.subs))}
		if ic.all {
			idx.all++
		}
		for n := range ic.subs {
			idx.names[n]++
			sub.names[n] = true
		}
		ic.mu.Unlock()
		idx.conns = append(idx.conns, sub)
	}
	s.subs.Store(idx)
}

// publish hands a framed event to every inbound connection subscribed to name.
func (s *Server) publish(name string, frame []byte) {
	idx := s.subs.Load()
	if !idx.wants(name) {
		return
	}
	for _, sub := range idx.conns {
		if sub.all || sub.names[name] {
			sub.ic.send(frame)
		}
	}
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // listener closed
		}
		s.mu.Lock()
		if s.closed || s.stopping {
			s.mu.Unlock()
			conn.Close()
			continue
		}
		s.inSeq++
		ic := &inConn{s: s, id: "inbound-" + strconv.Itoa(s.inSeq), conn: conn,
			q: make(chan []byte, s.cfg.InboundQueue), done: make(chan struct{}), subs: map[string]bool{}}
		s.inbound[ic] = struct{}{}
		s.wg.Add(2)
		s.mu.Unlock()
		go ic.writeLoop()
		go ic.readLoop()
	}
}

// send queues a message; a full queue means the client stopped reading: drop it.
func (ic *inConn) send(b []byte) {
	select {
	case ic.q <- b:
	case <-ic.done:
	default:
		ic.s.log.Warn("inbound connection fell behind; dropping it", "conn", ic.id, "queued", len(ic.q))
		ic.close()
	}
}

// closeAfter queues the last message; the writer closes the socket once it is out.
func (ic *inConn) closeAfter(b []byte) {
	ic.send(b)
	ic.send(nil)
}

func (ic *inConn) close() {
	ic.closed.Do(func() {
		close(ic.done)
		ic.conn.Close()
		ic.s.mu.Lock()
		delete(ic.s.inbound, ic)
		ic.s.mu.Unlock()
		ic.s.rebuildSubs()
	})
}

func (ic *inConn) writeLoop() {
	defer ic.s.wg.Done()
	for {
		select {
		case <-ic.done:
			return
		case b := <-ic.q:
			if b == nil {
				ic.close()
				return
			}
			ic.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := ic.conn.Write(b); err != nil {
				ic.close()
				return
			}
		}
	}
}

func (ic *inConn) readLoop() {
	defer ic.s.wg.Done()
	defer ic.close()
	ic.send([]byte(authRequest))
	br := bufio.NewReaderSize(ic.conn, 16<<10)
	authed := false
	for {
		cmd, err := readCommand(br)
		if errors.Is(err, errBadCommand) {
			ic.s.logCommand("inbound", ic.id, cmd)
			ic.send(appendReply(nil, "-ERR command not found"))
			continue
		}
		if err != nil {
			return
		}
		ic.s.logCommand("inbound", ic.id, cmd)
		verb, args, _ := strings.Cut(cmd.line, " ")
		if !authed {
			switch {
			case verb == "auth" && args == ic.s.cfg.Password:
				authed = true
				ic.authed.Store(true)
				ic.send(appendReply(nil, "+OK accepted"))
			case verb == "auth":
				ic.send(appendReply(nil, "-ERR invalid"))
				ic.closeAfter(appendNotice(nil, "", "", goodbyeText))
				<-ic.done
				return
			default:
				ic.send(appendReply(nil, "-ERR command not found"))
			}
			continue
		}
		if !ic.dispatch(verb, args, cmd) {
			<-ic.done
			return
		}
	}
}

// dispatch runs one authenticated command; false means the connection is finished.
func (ic *inConn) dispatch(verb, args string, cmd *command) bool {
	s := ic.s
	switch strings.ToLower(verb) {
	case "event":
		names, ok := parseEventNames(args)
		if !ok {
			ic.send(appendReply(nil, "-ERR fakefs supports plain events only"))
			return true
		}
		ic.mu.Lock()
		for _, n := range names {
			if strings.EqualFold(n, "all") {
				ic.all = true
			} else {
				ic.subs[n] = true
			}
		}
		ic.mu.Unlock()
		s.rebuildSubs()
		ic.send(appendReply(nil, "+OK event listener enabled plain"))
	case "noevents":
		ic.mu.Lock()
		ic.all, ic.subs = false, map[string]bool{}
		ic.mu.Unlock()
		s.rebuildSubs()
		ic.send(appendReply(nil, "+OK no longer listening for events"))
	case "api":
		done := make(chan struct{})
		s.api(args, func(body string) { ic.send(appendAPI(nil, body)); close(done) })
		select { // keep replies in command order, like FreeSWITCH's serial parser
		case <-done:
		case <-ic.done:
			return false
		}
	case "bgapi":
		s.bgapi(args, cmd.get("Job-UUID"), func(b []byte) { ic.send(b) })
	case "exit":
		ic.send(appendReply(nil, "+OK bye"))
		ic.closeAfter(appendNotice(nil, "", "", goodbyeText))
		return false
	case "linger", "nolinger", "myevents":
		ic.send(appendReply(nil, "-ERR not controlling a session"))
	default:
		ic.send(appendReply(nil, "-ERR command not found"))
	}
	return true
}

// parseEventNames parses the arguments of `event [plain] NAME...`; ok is false for the
// xml and json formats, which this fake does not produce.
func parseEventNames(args string) (names []string, ok bool) {
	for _, f := range strings.Fields(args) {
		switch strings.ToLower(f) {
		case "plain":
		case "xml", "json":
			return nil, false
		default:
			names = append(names, strings.ToUpper(f))
		}
	}
	return names, true
}
