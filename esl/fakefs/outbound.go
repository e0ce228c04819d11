package fakefs

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"
)

// tick is FreeSWITCH's media/event pacing (20 ms frames): the socket app picks up a
// queued sendmsg on the next tick, so CHANNEL_EXECUTE follows its +OK ~20 ms later.
const tick = 20 * time.Millisecond

// Call places one call: it dials daemonAddr like `socket <addr> async full`, plays the
// B-leg for whatever the daemon asks and the caller script in spec, and returns once
// the socket is closed and the channel has hung up, or when ctx ends (then err is
// ctx.Err()). The returned result is filled in either case.
func (s *Server) Call(ctx context.Context, daemonAddr string, spec CallSpec) (CallResult, error) {
	c := s.newCall(spec)
	res := c.res
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", daemonAddr)
	if err != nil {
		return res, err
	}
	if err := s.register(c); err != nil {
		conn.Close()
		return res, err
	}
	c.conn = conn
	c.begin()
	s.wg.Add(2)
	go c.run()
	go c.readLoop()
	select {
	case <-c.ended:
	case <-ctx.Done():
		c.abort(ctx.Err())
		<-c.ended
		if c.res.Err == nil { // the engine may have finished before abort ran
			c.res.Err = ctx.Err()
		}
	}
	return c.res, c.res.Err
}

func (s *Server) register(c *call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.stopping {
		return errors.New("fakefs: server is shutting down")
	}
	s.calls[c.b.uuid] = c
	s.calls[c.aID] = c
	s.active[c] = struct{}{}
	s.sessions.Add(2)
	return nil
}

// unregister removes a hung-up channel from the uuid lookups (uuid_exists is false
// from then on, even while its socket lingers); gone also forgets the engine.
func (s *Server) unregister(c *call, gone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gone {
		delete(s.active, c)
	}
	if s.calls[c.b.uuid] == c {
		delete(s.calls, c.b.uuid)
	}
	if s.calls[c.aID] == c {
		delete(s.calls, c.aID)
	}
}

// begin runs before the engine starts: the socket app is running, arm absolute timers.
func (c *call) begin() {
	if c.spec.MaxDuration > 0 {
		c.after(c.spec.MaxDuration, func() { c.hangup("NORMAL_CLEARING") })
	}
}

func (c *call) readLoop() {
	defer c.s.wg.Done()
	br := bufio.NewReaderSize(c.conn, 16<<10)
	for {
		cmd, err := readCommand(br)
		if err != nil && !errors.Is(err, errBadCommand) {
			c.post(c.socketClosed)
			return
		}
		c.s.logCommand("outbound", c.b.uuid, cmd)
		if err != nil {
			c.post(func() { c.reply("-ERR command not found") })
			continue
		}
		verb, args, _ := strings.Cut(cmd.line, " ")
		switch strings.ToLower(verb) {
		case "api": // answered in order: wait for the reply before reading on
			done := make(chan struct{})
			c.s.api(args, func(body string) {
				c.post(func() { c.write(appendAPI(nil, body)) })
				close(done)
			})
			<-done
		case "bgapi":
			c.s.bgapi(args, cmd.get("Job-UUID"), func(b []byte) { c.post(func() { c.write(b) }) })
		default:
			if !c.post(func() { c.handle(strings.ToLower(verb), args, cmd) }) {
				return
			}
		}
	}
}

// handle runs one socket command on the engine (mod_event_socket's parse_command).
func (c *call) handle(verb, args string, cmd *command) {
	if c.sockGone {
		return
	}
	if !c.parkSched && (verb == "myevents" || verb == "event" || verb == "sendmsg") {
		// FreeSWITCH parks the channel right after the socket connects; a tick after the
		// first subscription or message keeps CHANNEL_PARK deliverable to a slow daemon.
		c.parkSched = true
		c.after(tick, c.park)
	}
	switch verb {
	case "connect":
		c.write(c.s.connectReply(&c.b))
	case "myevents":
		if _, ok := parseEventNames(args); !ok {
			c.reply("-ERR fakefs supports plain events only")
			return
		}
		c.myevents = true
		c.reply("+OK Events Enabled")
	case "event":
		names, ok := parseEventNames(args)
		if !ok {
			c.reply("-ERR fakefs supports plain events only")
			return
		}
		for _, n := range names {
			if n == "ALL" {
				c.subAll = true
			}
			c.subs[n] = true
		}
		c.reply("+OK event listener enabled plain")
	case "noevents":
		c.myevents, c.subAll, c.subs = false, false, map[string]bool{}
		c.reply("+OK no longer listening for events")
	case "linger":
		c.linger = -1
		if n, err := strconv.Atoi(strings.TrimSpace(args)); err == nil && args != "" {
			c.linger = n
			c.reply("+OK will linger " + strconv.Itoa(n) + " seconds")
		} else {
			c.reply("+OK will linger")
		}
	case "nolinger":
		c.linger = 0
		c.reply("+OK will not linger")
	case "sendmsg":
		c.sendmsg(strings.TrimSpace(args), cmd)
	case "exit":
		c.reply("+OK bye")
		c.res.ExitByDaemon = true
		c.closeSocket(appendNotice(nil, c.b.uuid, "disconnect", goodbyeText))
	default:
		c.reply("-ERR command not found")
	}
}

// sendmsg replies +OK at once (it only queues) and hands the message to the target
// channel: execute goes to the app queue, hangup acts immediately.
func (c *call) sendmsg(target string, cmd *command) {
	t := c
	if target != "" && target != c.b.uuid {
		if t = c.s.lookup(target); t == nil {
			c.reply("-ERR invalid session id [" + target + "]")
			return
		}
	}
	c.reply("+OK")
	msg := func() {
		if t.hungUp {
			return
		}
		switch strings.ToLower(cmd.get("call-command")) {
		case "execute":
			arg := cmd.get("execute-app-arg")
			if arg == "" && cmd.body != "" {
				arg = strings.TrimRight(cmd.body, "\n")
			}
			name := cmd.get("execute-app-name")
			if name == "" {
				return
			}
			if !t.socketActive {
				t.s.log.Debug("sendmsg after the socket app ended; ignored", "uuid", t.b.uuid, "app", name)
				return
			}
			if name == "record_session" && t.res.RecordSessionAt.IsZero() {
				t.res.RecordSessionAt = time.Now()
			}
			r := execReq{name: name, arg: arg, uuid: cmd.get("Event-UUID")}
			if t.cur != nil && t.cur.nests() && len(t.queue) == 0 {
				t.nest(r)
				return
			}
			t.queue = append(t.queue, r)
			t.runNext()
		case "hangup":
			cause := cmd.get("hangup-cause")
			if cause == "" {
				cause = "NORMAL_CLEARING"
			}
			t.hangup(cause)
		}
	}
	if t == c {
		msg()
	} else {
		t.post(msg)
	}
}

// park is the socket application's park loop starting: CHANNEL_PARK, then queued
// executes may run.
func (c *call) park() {
	if c.parked || c.hungUp {
		return
	}
	c.parked = true
	c.emit("CHANNEL_PARK", sitePark, true)
	c.runNext()
}

// nest runs an execute inside the playing application on its next media tick, with any
// others that arrive before it, in order: switch_ivr_play_file parses the channel's queued
// messages once per frame (m-callconsent-stopped: both replies come first, then unset and
// transfer run inside the notice's playback).
func (c *call) nest(r execReq) {
	c.nested = append(c.nested, r)
	if len(c.nested) > 1 {
		return
	}
	c.after(tick, func() {
		batch := c.nested
		c.nested = nil
		for _, r := range batch {
			if c.hungUp || !c.socketActive {
				return
			}
			if c.cur == nil || !c.cur.nests() {
				c.queue = append(c.queue, r) // the player ended meanwhile
				c.runNext()
				continue
			}
			c.exec(r)
		}
	})
}

// runNext starts the next queued execute one tick later, if nothing runs.
func (c *call) runNext() {
	if !c.parked || c.cur != nil || c.starting || c.hungUp || len(c.queue) == 0 {
		return
	}
	c.starting = true
	c.after(tick, func() {
		c.starting = false
		if c.hungUp || c.cur != nil || len(c.queue) == 0 {
			return
		}
		r := c.queue[0]
		c.queue = c.queue[1:]
		c.exec(r)
	})
}
