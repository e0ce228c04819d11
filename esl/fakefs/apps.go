package fakefs

import (
	"strconv"
	"strings"
	"time"
)

// app is the application currently executing on the channel.
type app struct {
	name, arg, uuid string
	fromSocket      bool // run by sendmsg: current_loop/total_loops bookkeeping
	started         time.Time
	pagd            *pagd
	play            *playback
	// parent is the application this one runs inside: FreeSWITCH runs a sendmsg that
	// arrives while a playback or prompt plays from within that application's loop
	// (m-callconsent-stopped: unset and transfer inside the notice's playback).
	parent *app
	// onHangup sets the app's variables when a hangup interrupts it and returns the
	// Application-Response of its EXECUTE_COMPLETE.
	onHangup func(now time.Time) string
}

// exec runs one queued sendmsg execute.
func (c *call) exec(r execReq) {
	c.res.Apps = append(c.res.Apps, r.name)
	a := &app{name: r.name, arg: r.arg, uuid: r.uuid, fromSocket: true, parent: c.cur}
	switch r.name {
	case "answer", "pre_answer":
		c.start(a)
		c.answer()
		c.complete(a, "_none_")
		c.fire(AtAnswer, 1)
	case "flush_dtmf", "set", "unset", "export", "log", "sleep0":
		c.start(a)
		switch r.name {
		case "set", "export":
			if k, v, ok := strings.Cut(r.arg, "="); ok {
				c.b.set(k, v)
			}
		case "unset":
			c.b.del(strings.TrimSpace(r.arg))
		case "flush_dtmf":
			c.dtmfQ = nil // switch_channel_flush_dtmf: silently, no DTMF events
		}
		c.complete(a, "_none_")
		if r.name == "flush_dtmf" {
			c.fire(AtFlush, 1)
		}
	case "play_and_get_digits":
		c.startPagd(a)
	case "playback":
		c.startPlayback(a)
	case "sleep":
		c.start(a)
		ms, _ := strconv.Atoi(strings.TrimSpace(r.arg))
		d := time.Duration(ms) * time.Millisecond
		a.onHangup = func(now time.Time) string {
			c.setPlayback(now.Sub(a.started))
			c.b.set("current_application_response", "PLAYBACK ERROR")
			return "PLAYBACK%20ERROR"
		}
		c.after(d, func() {
			if c.cur == a {
				c.setPlayback(d)
				c.b.set("current_application_response", "FILE PLAYED")
				c.complete(a, "FILE%20PLAYED")
			}
		})
	case "record_session":
		c.start(a)
		c.recordSession(r.arg)
		c.complete(a, "_none_")
	case "stop_record_session":
		// mod_dptools: stops the media bug recording to that path ("all": every one) and
		// completes at once; nothing recording is not an error.
		c.start(a)
		c.appStopRecord(strings.TrimSpace(r.arg))
		c.complete(a, "_none_")
	case "transfer":
		c.start(a)
		c.transfer(a)
	case "hangup":
		c.start(a)
		cause := strings.TrimSpace(r.arg)
		if cause == "" {
			cause = "NORMAL_CLEARING"
		}
		a.onHangup = func(time.Time) string { return "_none_" }
		c.hangup(cause)
	default:
		// FreeSWITCH logs "Invalid Application", fails the execute and hangs the
		// channel up with DESTINATION_OUT_OF_ORDER; the complete event lets a daemon
		// waiting on Application-UUID see the failure.
		c.s.log.Warn("unknown application", "uuid", c.b.uuid, "app", r.name)
		c.emit("CHANNEL_EXECUTE_COMPLETE", siteExecComplete, true, appTail(a, "-ERR%20invalid%20application")...)
		c.hangup("DESTINATION_OUT_OF_ORDER")
	}
}

// start is switch_core_session_exec up to CHANNEL_EXECUTE, with the variable moves the
// transcripts show (loop counters, then application, then its data).
func (c *call) start(a *app) {
	a.started = time.Now()
	c.cur = a
	if a.fromSocket {
		c.b.set("current_loop", "1")
		c.b.set("total_loops", "1")
	}
	c.b.set("current_application", a.name)
	if a.arg != "" {
		c.b.set("current_application_data", a.arg)
	} else {
		c.b.del("current_application_data")
	}
	c.b.del("current_application_response") // switch_core_session_exec clears the last app's
	c.emit("CHANNEL_EXECUTE", siteExecute, true, appTail(a, "")...)
	if a.arg != "" { // FreeSWITCH sets data, then application again once the app runs
		c.b.set("current_application_data", a.arg)
	}
	c.b.set("current_application", a.name)
	c.lastApp, c.lastArg = a.name, a.arg
}

// complete fires CHANNEL_EXECUTE_COMPLETE and lets the next queued execute run; an
// application that ran inside another hands the channel back to it.
func (c *call) complete(a *app, response string) {
	if c.cur != a {
		return
	}
	c.emit("CHANNEL_EXECUTE_COMPLETE", siteExecComplete, true, appTail(a, response)...)
	if a.fromSocket {
		c.b.del("current_loop")
		c.b.del("total_loops")
	}
	if c.cur = a.parent; c.cur != nil {
		return
	}
	c.runNext()
	if len(c.dtmfQ) > 0 {
		c.takeDTMF() // keys nobody took: the next application or the park loop will
	}
}

// appTail is the event-specific end of EXECUTE (response "") and EXECUTE_COMPLETE.
func appTail(a *app, response string) []kv {
	t := make([]kv, 0, 4)
	t = append(t, kv{"Application", encode(a.name)})
	if a.arg != "" {
		t = append(t, kv{"Application-Data", encode(a.arg)})
	}
	if response != "" {
		t = append(t, kv{"Application-Response", response})
	}
	if a.uuid != "" {
		t = append(t, kv{"Application-UUID", encode(a.uuid)})
	}
	return t
}

func (c *call) answer() {
	if c.b.answered != 0 {
		return
	}
	c.b.answered = time.Now().UnixMicro()
	c.b.answerState = "answered"
	c.emit("CHANNEL_ANSWER", siteAnswer, true)
	c.b.callState = "ACTIVE"
	c.b.set("endpoint_disposition", "ANSWER")
}

// setPlayback records how much of a file was played, as FreeSWITCH's playback does.
func (c *call) setPlayback(d time.Duration) {
	ms := d.Milliseconds()
	c.b.set("playback_last_offset_pos", strconv.FormatInt(ms*8, 10))
	c.b.set("playback_seconds", strconv.FormatInt(ms/1000, 10))
	c.b.set("playback_ms", strconv.FormatInt(ms, 10))
	c.b.set("playback_samples", strconv.FormatInt(ms*8, 10))
}

// transfer follows a-consent: the socket app ends, the channel routes to the new
// extension, whose dialplan (the "employee") answers and plays a tone until hangup.
func (c *call) transfer(a *app) {
	f := strings.Fields(a.arg)
	ext, dp, ctx := "", "XML", "default"
	if len(f) > 0 {
		ext = f[0]
	}
	if len(f) > 1 {
		dp = f[1]
	}
	if len(f) > 2 {
		ctx = f[2]
	}
	now := time.Now()
	src := strconv.FormatInt(now.Unix(), 10) + ":" + newUUID() + ":bl_xfer:" + ext + "/" + ctx + "/" + dp
	c.b.stateNum = 2
	c.b.dialplan, c.b.rdnis, c.b.dest, c.b.context = dp, c.b.dest, ext, ctx
	c.b.transferSource = src
	c.b.profileIndex++
	c.b.profileCreated = now.UnixMicro()
	c.b.set("max_forwards", "70")
	c.b.set("transfer_history", src)
	c.b.set("transfer_source", src)
	c.transferred = true
	c.complete(a, "_none_")
	if outer := c.cur; outer != nil { // the transfer breaks the playback it ran inside
		resp := "_none_"
		if outer.play != nil {
			c.setPlaybackRead(outer.play.readBy(now), outer.play.rate)
			c.b.set("current_application_response", "FILE PLAYED")
			resp = "FILE%20PLAYED"
		}
		c.complete(outer, resp)
	}
	c.endSocketApp()
	c.b.set("call_uuid", c.b.uuid)
	c.setState("CS_ROUTING", 2, "RINGING")
	c.emit("CHANNEL_STATE", siteState, false)
	c.setState("CS_EXECUTE", 4, "ACTIVE")
	c.emit("CHANNEL_STATE", siteState, false)
	ans := &app{name: "answer", uuid: newUUID()}
	c.start(ans)
	c.complete(ans, "_none_")
	pb := &app{name: "playback", arg: "tone_stream://%(1000,0,440);loops=20", uuid: newUUID()}
	c.start(pb)
	c.b.del("playback_terminator_used")
	pb.onHangup = func(now time.Time) string {
		c.setPlayback(now.Sub(pb.started))
		c.b.set("current_application_response", "PLAYBACK ERROR")
		return "PLAYBACK%20ERROR"
	}
	c.fire(AtTransfer, 1)
}

// endSocketApp is the socket application returning: UNPARK and its EXECUTE_COMPLETE.
func (c *call) endSocketApp() {
	if !c.socketActive {
		return
	}
	c.socketActive = false
	c.queue = nil
	c.b.del("current_loop")
	c.b.del("total_loops")
	c.emit("CHANNEL_UNPARK", siteUnpark, true)
	c.emit("CHANNEL_EXECUTE_COMPLETE", siteExecComplete, true,
		kv{"Application", "socket"}, kv{"Application-Data", "127.0.0.1%3A8084%20async%20full"},
		kv{"Application-Response", "_none_"}, kv{"Application-UUID", newUUID()})
}

// dtmf is a caller key press. FreeSWITCH queues it on the channel; the DTMF event fires when
// an application takes it from the queue: a prompt or a playback that is running, or the next
// one the daemon starts; while nothing runs, the socket application's park loop takes and
// drops it one tick later (g-early-digit). flush_dtmf empties the queue without events.
func (c *call) dtmf(d string) {
	if c.hungUp {
		return
	}
	c.digits += d
	c.res.Digits = c.digits
	if !c.socketActive { // the employee's side of the dialplan has the channel
		c.emitDTMF(d)
		return
	}
	c.dtmfQ = append(c.dtmfQ, d)
	c.takeDTMF()
}

// takeDTMF hands queued keys to the running application if it reads keys now; the rest wait.
func (c *call) takeDTMF() {
	for len(c.dtmfQ) > 0 && c.cur != nil && c.cur.readsDTMF() {
		d := c.dtmfQ[0]
		c.dtmfQ = c.dtmfQ[1:]
		c.emitDTMF(d)
		switch {
		case c.cur.pagd != nil:
			c.cur.pagd.digit(c, d)
		case c.cur.play != nil:
			c.cur.play.key(c, d)
		}
	}
	if len(c.dtmfQ) > 0 && !c.drainSched {
		c.drainSched = true
		c.after(c.s.cfg.ParkTick, c.parkDrain)
	}
}

// parkDrain is the park loop's look at the DTMF queue: with no application running or about
// to run, it takes every key and drops it.
func (c *call) parkDrain() {
	c.drainSched = false
	if len(c.dtmfQ) == 0 || c.hungUp {
		return
	}
	if c.cur != nil || c.starting || len(c.queue) > 0 {
		c.takeDTMF() // an application has them, or will: look again later
		return
	}
	for _, d := range c.dtmfQ {
		c.emitDTMF(d)
	}
	c.dtmfQ = nil
}

func (c *call) emitDTMF(d string) {
	c.emit("DTMF", siteDTMF, false, kv{"DTMF-Digit", encode(d)}, kv{"DTMF-Duration", "2000"}, kv{"DTMF-Source", "UNKNOWN"})
}

// nests reports whether the application runs the channel's queued messages while it plays,
// as switch_ivr_play_file's loop does: a sendmsg execute then runs inside it at once.
func (a *app) nests() bool { return a.pagd != nil || a.play != nil }

// readsDTMF reports whether the application takes keys from the queue while it runs.
func (a *app) readsDTMF() bool {
	switch {
	case a.pagd != nil:
		return a.pagd.readsDTMF()
	case a.play != nil:
		return true
	}
	return false
}
