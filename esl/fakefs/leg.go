package fakefs

import "strconv"

// kv is one channel variable; the value is stored URL-encoded because it is only ever
// used to build event bodies.
type kv struct{ k, v string }

// leg is the channel model: the state block, the caller profile and the ordered
// channel variables that FreeSWITCH serialises into every channel event.
type leg struct {
	uuid, name, direction      string
	state                      string // Channel-State
	stateNum                   int    // Channel-State-Number (the running state; can differ)
	callState, answerState     string
	hangupCause                string
	dialplan, cidName, cidNum  string // raw values; encoded when serialised
	origCidName, origCidNum    string
	calleeName, calleeNum, ani string
	dest, context, source      string
	transferSource, rdnis      string
	profileIndex               int
	profileCreated, created    int64 // µs since epoch
	answered, hangupAt         int64
	vars                       []kv
}

// set replaces a variable the way switch_channel_set_variable does: delete, then append
// at the bottom. This is why variables move around between events in the transcripts.
func (l *leg) set(k, raw string) {
	l.del(k)
	l.vars = append(l.vars, kv{k, encode(raw)})
}

func (l *leg) del(k string) {
	for i := range l.vars {
		if l.vars[i].k == k {
			l.vars = append(l.vars[:i], l.vars[i+1:]...)
			return
		}
	}
}

// get returns the decoded-enough value of a variable ("" when unset); values set by the
// fake contain no escapes the daemon would care about except the ones encode added.
func (l *leg) get(k string) (string, bool) {
	for _, v := range l.vars {
		if v.k == k {
			return v.v, true
		}
	}
	return "", false
}

// profileField answers what switch_channel_get_variable finds in the caller profile when no
// channel variable has the name (caller_id_number and friends, as uuid_getvar shows them).
func (l *leg) profileField(name string) (string, bool) {
	switch name {
	case "caller_id_number":
		return l.cidNum, true
	case "caller_id_name":
		return l.cidName, true
	case "destination_number":
		return l.dest, true
	case "ani":
		return l.ani, true
	case "uuid":
		return l.uuid, true
	}
	return "", false
}

// appendProfile writes the caller profile with the given prefix ("Caller-" in every
// channel event, also "Channel-" at the top of CHANNEL_DATA).
func (e *evb) appendProfile(p string, l *leg) {
	e.h(p+"Direction", l.direction)
	e.h(p+"Logical-Direction", l.direction)
	e.h(p+"Dialplan", l.dialplan)
	e.raw(p+"Caller-ID-Name", l.cidName)
	e.raw(p+"Caller-ID-Number", l.cidNum)
	e.raw(p+"Orig-Caller-ID-Name", l.origCidName)
	e.raw(p+"Orig-Caller-ID-Number", l.origCidNum)
	e.raw(p+"Callee-ID-Name", l.calleeName)
	e.raw(p+"Callee-ID-Number", l.calleeNum)
	e.raw(p+"ANI", l.ani)
	e.raw(p+"Destination-Number", l.dest)
	e.h(p+"Unique-ID", l.uuid)
	e.h(p+"Source", l.source)
	if l.transferSource != "" {
		e.raw(p+"Transfer-Source", l.transferSource)
	}
	e.raw(p+"Context", l.context)
	if l.rdnis != "" {
		e.raw(p+"RDNIS", l.rdnis)
	}
	e.raw(p+"Channel-Name", l.name)
	e.i(p+"Profile-Index", int64(l.profileIndex))
	e.i(p+"Profile-Created-Time", l.profileCreated)
	e.i(p+"Channel-Created-Time", l.created)
	e.i(p+"Channel-Answered-Time", l.answered)
	e.h(p+"Channel-Progress-Time", "0")
	e.h(p+"Channel-Progress-Media-Time", "0")
	e.i(p+"Channel-Hangup-Time", l.hangupAt)
	for _, n := range [...]string{"Transfer-Time", "Resurrect-Time", "Bridged-Time", "Last-Hold", "Hold-Accum"} {
		e.h(p+"Channel-"+n, "0")
	}
	e.h(p+"Screen-Bit", "true")
	e.h(p+"Privacy-Hide-Name", "false")
	e.h(p+"Privacy-Hide-Number", "false")
}

// appendState writes the channel state block that precedes the caller profile.
func (e *evb) appendState(l *leg) {
	e.h("Channel-State", l.state)
	e.h("Channel-Call-State", l.callState)
	e.h("Channel-State-Number", strconv.Itoa(l.stateNum))
	e.raw("Channel-Name", l.name)
	e.h("Unique-ID", l.uuid)
	e.h("Call-Direction", l.direction)
	e.h("Presence-Call-Direction", l.direction)
	e.h("Channel-HIT-Dialplan", "true")
	e.h("Channel-Call-UUID", l.uuid)
	e.h("Answer-State", l.answerState)
	if l.hangupCause != "" {
		e.h("Hangup-Cause", l.hangupCause)
	}
	e.b = append(e.b, codecHeaders...)
}

const codecHeaders = "Channel-Read-Codec-Name: L16\nChannel-Read-Codec-Rate: 8000\nChannel-Read-Codec-Bit-Rate: 128000\n" +
	"Channel-Write-Codec-Name: L16\nChannel-Write-Codec-Rate: 8000\nChannel-Write-Codec-Bit-Rate: 128000\n"

func (e *evb) appendVars(l *leg) {
	for _, v := range l.vars {
		e.b = append(e.b, "variable_"...)
		e.h(v.k, v.v)
	}
}

// channelEvent builds a channel event: common headers, state, profile, optionally the
// variables (DTMF and CHANNEL_STATE carry none), then the event-specific tail.
func (s *Server) channelEvent(l *leg, name string, at site, withVars bool, tail ...kv) []byte {
	now := s.now()
	e := s.newEvent(name, at, now)
	if name == "CHANNEL_HANGUP_COMPLETE" {
		e.h("Hangup-Cause", l.hangupCause) // FreeSWITCH repeats it right after Event-Sequence
	}
	e.appendState(l)
	e.appendProfile("Caller-", l)
	if withVars {
		e.appendVars(l)
	}
	for _, t := range tail {
		e.h(t.k, t.v)
	}
	return e.frame()
}

// connectReply is the answer to `connect`: a serialised CHANNEL_DATA header block with
// the reply headers appended at the END and no Content-Length (transcript a-consent).
func (s *Server) connectReply(l *leg) []byte {
	e := s.newEvent("CHANNEL_DATA", siteData, s.now())
	e.appendProfile("Channel-", l)
	e.appendState(l)
	e.appendProfile("Caller-", l)
	e.appendVars(l)
	e.h("Content-Type", "command/reply")
	e.h("Reply-Text", "%2BOK%0A")
	e.h("Socket-Mode", "async")
	e.h("Control", "full")
	e.b = append(e.b, '\n')
	return e.b[framePad:]
}
