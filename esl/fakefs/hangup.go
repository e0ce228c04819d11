package fakefs

import (
	"strconv"
	"time"
)

// q850 maps the hangup causes the fake produces to variable_hangup_cause_q850.
// SYSTEM_SHUTDOWN reported 16 in i-fs-shutdown.
var q850 = map[string]string{
	"NORMAL_CLEARING": "16", "SYSTEM_SHUTDOWN": "16", "USER_BUSY": "17", "NO_ANSWER": "19",
	"CALL_REJECTED": "21", "DESTINATION_OUT_OF_ORDER": "27", "NORMAL_TEMPORARY_FAILURE": "41",
}

// hangup runs the hangup sequence of ESL-NOTES §7: CHANNEL_HANGUP, EXECUTE_COMPLETE of
// the running app, (UNPARK + socket complete if still in the socket app), CS_HANGUP,
// RECORD_STOP, CS_REPORTING, CHANNEL_HANGUP_COMPLETE, then the linger or disconnect
// notice on the socket.
func (c *call) hangup(cause string) {
	if c.hungUp {
		return
	}
	c.hungUp = true
	c.res.HangupCause = cause
	c.queue = nil
	now := time.Now()
	c.b.stateNum, c.b.answerState, c.b.hangupCause = 10, "hangup", cause
	c.emit("CHANNEL_HANGUP", siteHangup, true)
	if a := c.cur; a != nil {
		resp := "_none_"
		if a.onHangup != nil {
			resp = a.onHangup(now)
		}
		c.complete(a, resp)
	}
	c.endSocketApp()
	// In i-fs-shutdown FreeSWITCH's state events of the hangup carried the variables,
	// and the CDR variables were already set at CS_REPORTING.
	shutdown := cause == "SYSTEM_SHUTDOWN"
	c.setState("CS_HANGUP", 10, c.b.callState)
	c.emit("CHANNEL_STATE", siteState, shutdown)
	c.b.hangupAt = now.UnixMicro()
	if c.s.subs.Load().wants("CHANNEL_HANGUP_COMPLETE") {
		// the control connection saw the A-leg complete before the B-leg's RECORD_STOP
		c.s.publish("CHANNEL_HANGUP_COMPLETE", c.s.aLegHangupComplete(c, now))
	}
	for _, r := range c.recs {
		c.stopRecording(r, "success-silence", false)
	}
	c.recs = nil
	c.setState("CS_REPORTING", 11, "HANGUP")
	if shutdown {
		c.setHangupVars(now)
	}
	c.emit("CHANNEL_STATE", siteState, shutdown)
	if !shutdown {
		c.setHangupVars(now)
	}
	c.emit("CHANNEL_HANGUP_COMPLETE", siteHangupDone, true)
	c.s.unregister(c, false)
	c.afterHangup()
}

// afterHangup: with linger the socket stays open until exit or the linger time; without
// it FreeSWITCH says goodbye and closes right away.
func (c *call) afterHangup() {
	if c.sockGone {
		c.done = true
		return
	}
	if c.linger == 0 {
		c.closeSocket(appendNotice(nil, c.b.uuid, "disconnect", goodbyeText))
		c.done = true
		return
	}
	c.lingering = true
	c.write(appendLingerNotice(nil, c.b.uuid, c.b.name, c.linger))
	c.done = true // the engine exits as soon as the socket closes
	if c.linger > 0 {
		c.after(time.Duration(c.linger)*time.Second, func() {
			c.closeSocket(appendNotice(nil, c.b.uuid, "disconnect", goodbyeText))
		})
	}
}

func stamp(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02 15:04:05") }

// setHangupVars adds the CDR variables FreeSWITCH sets before CHANNEL_HANGUP_COMPLETE.
func (c *call) setHangupVars(end time.Time) {
	l, loc := &c.b, c.s.loc
	start, prof := time.UnixMicro(l.created), time.UnixMicro(l.profileCreated)
	ans := time.UnixMicro(l.answered)
	us := func(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
	sec := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	l.set("hangup_cause", l.hangupCause)
	l.set("hangup_cause_q850", orDefault(q850[l.hangupCause], "16"))
	l.set("digits_dialed", orDefault(c.digits, "none"))
	l.set("start_stamp", stamp(start, loc))
	l.set("profile_start_stamp", stamp(prof, loc))
	if l.answered != 0 {
		l.set("answer_stamp", stamp(ans, loc))
	}
	l.set("end_stamp", stamp(end, loc))
	l.set("start_epoch", sec(start))
	l.set("start_uepoch", us(start))
	l.set("profile_start_epoch", sec(prof))
	l.set("profile_start_uepoch", us(prof))
	ansSec, ansUs := "0", "0"
	if l.answered != 0 {
		ansSec, ansUs = sec(ans), us(ans)
	}
	l.set("answer_epoch", ansSec)
	l.set("answer_uepoch", ansUs)
	for _, z := range []string{"bridge_epoch", "bridge_uepoch", "last_hold_epoch", "last_hold_uepoch",
		"hold_accum_seconds", "hold_accum_usec", "hold_accum_ms", "resurrect_epoch", "resurrect_uepoch",
		"progress_epoch", "progress_uepoch", "progress_media_epoch", "progress_media_uepoch"} {
		l.set(z, "0")
	}
	l.set("end_epoch", sec(end))
	l.set("end_uepoch", us(end))
	if c.lastApp != "" {
		l.set("last_app", c.lastApp)
		if c.lastArg != "" {
			l.set("last_arg", c.lastArg)
		}
	}
	l.set("caller_id", "\""+l.cidName+"\" <"+l.cidNum+">")
	dur := end.Sub(start)
	bill := time.Duration(0)
	answ := time.Duration(0)
	if l.answered != 0 {
		bill, answ = end.Sub(ans), ans.Sub(start)
	}
	for _, u := range []struct {
		suffix string
		div    time.Duration
	}{{"sec", time.Second}, {"msec", time.Millisecond}, {"usec", time.Microsecond}} {
		n := func(d time.Duration) string { return strconv.FormatInt(int64(d/u.div), 10) }
		pre := map[string]string{"sec": "duration", "msec": "mduration", "usec": "uduration"}[u.suffix]
		l.set(pre, n(dur))
		l.set("bill"+u.suffix, n(bill))
		l.set("progress"+u.suffix, "0")
		l.set("answer"+u.suffix, n(answ))
		l.set("wait"+u.suffix, "0")
		l.set("progress_media"+u.suffix, "0")
		l.set("flow_bill"+u.suffix, n(dur))
	}
	l.set("is_loopback", "1")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// aLegHangupComplete builds the A-leg's CHANNEL_HANGUP_COMPLETE that the control
// connection receives (the loopback caller leg: outbound direction, caller id flipped
// to "Outbound Call"/"default" by its transfer to 7000, as in a-consent).
func (s *Server) aLegHangupComplete(c *call, now time.Time) []byte {
	a := leg{uuid: c.aID, name: "loopback/5000-a", direction: "outbound", state: "CS_REPORTING", stateNum: 11,
		callState: "HANGUP", answerState: "hangup", hangupCause: c.b.hangupCause, dialplan: "XML",
		cidName: "Outbound Call", cidNum: "default", origCidName: c.b.origCidName, origCidNum: c.b.origCidNum,
		calleeName: c.b.origCidName, calleeNum: c.b.origCidNum, ani: c.b.ani, dest: "7000", context: "default",
		source: "mod_loopback", rdnis: c.b.dest, profileIndex: 2, created: c.b.created,
		profileCreated: c.b.created + 40000, answered: c.b.answered, hangupAt: now.UnixMicro()}
	if c.b.rdnis != "" {
		a.rdnis = c.b.rdnis // after a transfer the B-leg's original destination
	}
	xfer := strconv.FormatInt(c.b.created/1e6, 10) + ":" + newUUID() + ":bl_xfer:7000/default/XML"
	a.transferSource = xfer
	for _, v := range [][2]string{{"direction", "outbound"}, {"is_outbound", "true"},
		{"session_id", strconv.FormatInt(c.aSID, 10)}, {"read_codec", "L16"}, {"read_rate", "8000"},
		{"write_codec", "L16"}, {"write_rate", "8000"}, {"channel_name", a.name}, {"uuid", a.uuid},
		{"origination_uuid", a.uuid}, {"origination_caller_id_number", c.b.origCidNum},
		{"origination_caller_id_name", c.b.origCidName}, {"originate_early_media", "true"},
		{"originate_endpoint", "loopback"}, {"other_loopback_leg_uuid", c.b.uuid}, {"loopback_leg", "A"},
		{"endpoint_disposition", "ANSWER"}, {"max_forwards", "70"}, {"transfer_history", xfer},
		{"transfer_source", xfer}, {"pre_transfer_caller_id_name", c.b.origCidName},
		{"pre_transfer_caller_id_number", c.b.origCidNum}, {"channel_cid_flipped", "yes"},
		{"call_uuid", a.uuid}, {"current_application_data", "tone_stream://%(500,500,800);loops=-1"},
		{"current_application", "playback"}, {"current_application_response", "PLAYBACK ERROR"}} {
		a.set(v[0], v[1])
	}
	ac := &call{s: s, b: a, digits: "", lastApp: "playback", lastArg: "tone_stream://%(500,500,800);loops=-1"}
	ac.setHangupVars(now)
	return s.channelEvent(&ac.b, "CHANNEL_HANGUP_COMPLETE", siteHangupDone, true)
}
