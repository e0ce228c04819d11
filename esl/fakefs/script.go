package fakefs

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"time"
)

// Anchor is the moment a scripted caller action is timed from.
type Anchor int

const (
	// AtAnswer is the completion of the first `answer` the daemon executes.
	AtAnswer Anchor = iota + 1
	// AtPrompt is the moment the caller starts hearing a prompt from its beginning: a
	// playback of a file from its start, or a play_and_get_digits whose prompt is a file
	// (not silence_stream://). Step.Try picks which one.
	AtPrompt
	// AtTransfer is the moment the transferred call reaches the employee (after the
	// transfer's EXECUTE_COMPLETE, UNPARK and the employee's answer).
	AtTransfer
	// AtFlush is the completion of the first flush_dtmf: a key pressed then is what a real
	// FreeSWITCH showed for a key pressed at answer (l-key-at-answer): it arrives after the
	// flush and waits in the DTMF queue for whatever the daemon runs next.
	AtFlush
	// AtNoticeHeard is the end of the part of the notice callconsent plays whole before a key
	// counts: the start of a playback that continues a file (@@N), or, when nothing was left to
	// continue, of a play_and_get_digits with a silent prompt. Keys pressed after it count.
	AtNoticeHeard
)

// Step is one scripted caller action: press Digits, or hang up, After the anchor.
type Step struct {
	At    Anchor
	Try   int // AtPrompt only: the n-th prompt start of the call (every try counts); 0 = 1
	After time.Duration
	// Digits are pressed one after another (one DTMF event each).
	Digits string
	// Hangup ends the call with Cause (default NORMAL_CLEARING).
	Hangup bool
	Cause  string
}

// Press returns a step that presses digits after the anchor (the first prompt for AtPrompt).
func Press(at Anchor, after time.Duration, digits string) Step {
	return Step{At: at, After: after, Digits: digits}
}

// PressOnTry presses digits after the start of the try-th prompt (e.g. the second try
// after an invalid key).
func PressOnTry(try int, after time.Duration, digits string) Step {
	return Step{At: AtPrompt, Try: try, After: after, Digits: digits}
}

// HangUp returns a step that hangs up (NORMAL_CLEARING) after the anchor.
func HangUp(at Anchor, after time.Duration) Step { return Step{At: at, After: after, Hangup: true} }

// Var is a channel variable set on the B-leg before it reaches the socket.
type Var struct{ Name, Value string }

// CallSpec describes one call. Every field is optional.
type CallSpec struct {
	UUID           string // B-leg (socket channel) UUID; random v4 if empty
	ALegUUID       string // A-leg UUID; random v4 if empty
	CallerIDNumber string // default "+4791234567"
	CallerIDName   string // default "Kari Nordmann"
	Destination    string // default "5000"
	Lang           string // sets channel variable callconsent_lang when not empty
	Vars           []Var  // more channel variables, in this order
	Script         []Step
	// HangupAfterTransfer is when the caller hangs up after AtTransfer if the script
	// has no hangup step: 0 means 100ms, negative means never.
	HangupAfterTransfer time.Duration
	// FailRecordSession makes record_session fail to start on this call.
	FailRecordSession bool
	// MaxDuration, if > 0, hangs the call up that long after it started, whatever happens.
	MaxDuration time.Duration
}

// RecordingInfo describes a finished recording.
type RecordingInfo struct {
	Path     string
	Samples  int64 // per channel, at 8 kHz
	FileSize int64
	Cause    string // Record-Completion-Cause
}

// CallResult is what a call did.
type CallResult struct {
	UUID, ALegUUID string
	Apps           []string        // applications executed via sendmsg, in order
	RecordPaths    []string        // every record_session path seen (started or not)
	Recordings     []RecordingInfo // recordings that started and were finalised
	Digits         string          // keys the caller pressed
	HangupCause    string          // "" if the channel never hung up
	ExitByDaemon   bool            // the daemon sent `exit`
	// DigitAccepted is when a prompt accepted a key, or a key ended a playback, just before
	// its EXECUTE_COMPLETE was sent: the moment the daemon can know the caller's choice. Zero if
	// none was.
	DigitAccepted time.Time
	// RecordSessionAt is when the first record_session command arrived.
	RecordSessionAt time.Time
	Err             error
}

// fire schedules the script steps bound to this anchor occurrence.
func (c *call) fire(at Anchor, n int) {
	if at != AtPrompt {
		if c.fired[at] || at == AtTransfer && n != 1 {
			return
		}
		c.fired[at] = true
	}
	for _, st := range c.spec.Script {
		try := max(st.Try, 1)
		if st.At != at || (at == AtPrompt && try != n) {
			continue
		}
		st := st
		c.after(st.After, func() {
			for _, d := range st.Digits {
				c.dtmf(string(d))
			}
			if st.Hangup {
				c.hangup(orDefault(st.Cause, "NORMAL_CLEARING"))
			}
		})
	}
}

// newCall builds the B-leg as the loopback endpoint hands it to the socket application.
func (s *Server) newCall(spec CallSpec) *call {
	if spec.UUID == "" {
		spec.UUID = newUUID()
	}
	if spec.ALegUUID == "" {
		spec.ALegUUID = newUUID()
	}
	num, name := orDefault(spec.CallerIDNumber, "+4791234567"), orDefault(spec.CallerIDName, "Kari Nordmann")
	hasHangup := false
	for _, st := range spec.Script {
		hasHangup = hasHangup || st.Hangup
	}
	if !hasHangup && spec.HangupAfterTransfer >= 0 {
		spec.Script = append(spec.Script, HangUp(AtTransfer, orDur(spec.HangupAfterTransfer, 100*time.Millisecond)))
	}
	now := time.Now().UnixMicro()
	aSID := s.sessionSeq.Add(2) - 1
	c := &call{s: s, spec: spec, aID: spec.ALegUUID, aSID: aSID, wake: make(chan struct{}, 1),
		ended: make(chan struct{}), subs: map[string]bool{}, socketActive: true, fired: map[Anchor]bool{},
		res: CallResult{UUID: spec.UUID, ALegUUID: spec.ALegUUID}}
	c.b = leg{uuid: spec.UUID, name: "loopback/" + orDefault(spec.Destination, "5000") + "-b", direction: "inbound",
		state: "CS_EXECUTE", stateNum: 4, callState: "RINGING", answerState: "ringing", dialplan: "xml",
		cidName: name, cidNum: num, origCidName: name, origCidNum: num, calleeName: "Outbound Call",
		calleeNum: "default", ani: num, dest: orDefault(spec.Destination, "5000"), context: "default",
		source: "mod_loopback", profileIndex: 1, profileCreated: now, created: now}
	l := &c.b
	for _, v := range [][2]string{{"direction", "inbound"}, {"uuid", l.uuid},
		{"session_id", strconv.FormatInt(aSID+1, 10)}, {"channel_name", l.name}, {"read_codec", "L16"},
		{"read_rate", "8000"}, {"write_codec", "L16"}, {"write_rate", "8000"}, {"origination_uuid", c.aID},
		{"origination_caller_id_number", num}, {"origination_caller_id_name", name},
		{"other_loopback_leg_uuid", c.aID}, {"loopback_leg", "B"}, {"call_uuid", l.uuid}} {
		l.set(v[0], v[1])
	}
	if spec.Lang != "" {
		l.set("callconsent_lang", spec.Lang)
	}
	for _, v := range spec.Vars {
		l.set(v.Name, v.Value)
	}
	l.set("current_application_data", "127.0.0.1:8084 async full")
	l.set("current_application", "socket")
	l.set("socket_host", "127.0.0.1")
	return c
}

func orDur(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// newUUID returns a random version-4 UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
