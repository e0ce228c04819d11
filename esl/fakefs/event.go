package fakefs

import (
	"strconv"
	"time"
)

// site is the Event-Calling-File/-Function/-Line-Number triple of an event; the values
// are those of FreeSWITCH 1.11 in the transcripts, so the headers look real.
type site struct{ file, fn, line string }

var (
	siteData          = site{"mod_event_socket.c", "parse_command", "2029"}
	sitePark          = site{"switch_ivr.c", "switch_ivr_park", "1002"}
	siteUnpark        = site{"switch_ivr.c", "switch_ivr_park", "1213"}
	siteExecute       = site{"switch_core_session.c", "switch_core_session_exec", "2949"}
	siteExecComplete  = site{"switch_core_session.c", "switch_core_session_exec", "2972"}
	siteAnswer        = site{"switch_channel.c", "switch_channel_perform_mark_answered", "3848"}
	siteDTMF          = site{"switch_channel.c", "switch_channel_dequeue_dtmf", "678"}
	siteRecordStart   = site{"switch_ivr_async.c", "record_callback", "1482"}
	siteRecordStop    = site{"switch_ivr_async.c", "send_record_stop_event", "1241"}
	siteHangup        = site{"switch_channel.c", "switch_channel_perform_hangup", "3447"}
	siteState         = site{"switch_channel.c", "switch_channel_perform_set_running_state", "2409"}
	siteHangupDone    = site{"switch_core_state_machine.c", "switch_core_session_reporting_state", "943"}
	siteHeartbeat     = site{"switch_core.c", "send_heartbeat", "95"}
	siteBackgroundJob = site{"mod_event_socket.c", "api_exec", "1580"}
)

// framePad is room reserved in front of an event body for its
// "Content-Length: N\nContent-Type: text/event-plain\n\n" prefix, so that framing
// never copies the (3-5 KB) body.
const framePad = 64

// evb builds one text/event-plain message.
type evb struct{ b []byte }

// dateStamp caches the encoded Event-Date-Local/-GMT strings per second: formatting
// dates for every event would be the most expensive part of building one.
type dateStamp struct {
	sec        int64
	local, gmt string
}

func (s *Server) dates(now time.Time) *dateStamp {
	sec := now.Unix()
	if d := s.dateCache.Load(); d != nil && d.sec == sec {
		return d
	}
	loc := s.loc
	d := &dateStamp{
		sec:   sec,
		local: encode(now.In(loc).Format("2006-01-02 15:04:05")),
		gmt:   encode(now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")),
	}
	s.dateCache.Store(d)
	return d
}

// newEvent starts an event with the common headers every FreeSWITCH event carries.
func (s *Server) newEvent(name string, at site, now time.Time) *evb {
	e := &evb{b: make([]byte, framePad, 4096)}
	d := s.dates(now)
	e.h("Event-Name", name)
	e.h("Core-UUID", s.coreUUID())
	e.b = append(e.b, s.hostHeaders...)
	e.h("Event-Date-Local", d.local)
	e.h("Event-Date-GMT", d.gmt)
	e.i("Event-Date-Timestamp", now.UnixMicro())
	e.h("Event-Calling-File", at.file)
	e.h("Event-Calling-Function", at.fn)
	e.h("Event-Calling-Line-Number", at.line)
	e.i("Event-Sequence", s.seq.Add(1))
	return e
}

// h appends a header whose value is already encoded (or needs no encoding).
func (e *evb) h(name, val string) {
	e.b = append(e.b, name...)
	e.b = append(e.b, ": "...)
	e.b = append(e.b, val...)
	e.b = append(e.b, '\n')
}

// raw appends a header, encoding the value.
func (e *evb) raw(name, val string) {
	e.b = append(e.b, name...)
	e.b = append(e.b, ": "...)
	e.b = appendEncoded(e.b, val)
	e.b = append(e.b, '\n')
}

func (e *evb) i(name string, v int64) {
	e.b = append(e.b, name...)
	e.b = append(e.b, ": "...)
	e.b = strconv.AppendInt(e.b, v, 10)
	e.b = append(e.b, '\n')
}

// frame terminates the body with the empty line FreeSWITCH counts in Content-Length
// and writes the framing headers into the reserved pad. The result is immutable and
// shared by every receiver.
func (e *evb) frame() []byte {
	e.b = append(e.b, '\n')
	return e.prefix()
}

// prefix writes the outer Content-Length and Content-Type into the reserved pad in front of
// the finished body and returns the whole frame.
func (e *evb) prefix() []byte {
	n := len(e.b) - framePad
	var p [framePad]byte
	pre := append(p[:0], "Content-Length: "...)
	pre = strconv.AppendInt(pre, int64(n), 10)
	pre = append(pre, "\nContent-Type: text/event-plain\n\n"...)
	start := framePad - len(pre)
	copy(e.b[start:], pre)
	return e.b[start:]
}

// frameWithBody frames an event that has its own inner body (BACKGROUND_JOB): the
// inner Content-Length header, a blank line and the raw body, all inside the outer body.
func (e *evb) frameWithBody(body string) []byte {
	e.i("Content-Length", int64(len(body)))
	e.b = append(e.b, '\n')
	e.b = append(e.b, body...)
	return e.prefix()
}
