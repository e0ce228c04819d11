package export

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Channel names the side of a stereo recording a mute applies to. FreeSWITCH's record_session
// with RECORD_STEREO writes the leg it reads (the caller, whose channel callconsent handles) on
// the left and what it writes to that leg (the employee) on the right; scripts/freeswitch's
// README and esl/realfs's stereo test (800 Hz caller left, 440 Hz employee right) say the same.
type Channel string

// Channels of a mute. Both mutes every channel.
const (
	Both   Channel = "both"
	Caller Channel = "caller" // left
	Agent  Channel = "agent"  // right: the employee who took the call
)

// index is the channel's position in a frame, -1 for Both.
func (c Channel) index() int {
	switch c {
	case Caller:
		return 0
	case Agent:
		return 1
	}
	return -1
}

// maxMutes bounds the --mute ranges of one export: each costs a little work per chunk, and a
// reviewer who needs more than this is better served by a shorter excerpt.
const maxMutes = 1000

// Mute is one --mute range as given: seconds from the start of the recording, End exclusive.
// ToEnd means the range runs to the end of the recording ("60-end").
type Mute struct {
	Channel    Channel
	Start, End time.Duration
	ToEnd      bool
}

// String gives the mute as it is written on the command line.
func (m Mute) String() string {
	end := "end"
	if !m.ToEnd {
		end = seconds(m.End)
	}
	s := seconds(m.Start) + "-" + end
	if m.Channel != Both {
		s = string(m.Channel) + ":" + s
	}
	return s
}

// muteSyntax is the tail of every error about a malformed range, so each says what to write.
const muteSyntax = "want START-END in seconds, e.g. 12.5-15.25, caller:12.5-15.25, agent:0-3 or 60-end"

// ParseMute reads a --mute value: [caller:|agent:]START-END with START and END in seconds
// (at most 6 decimals), or END "end". It refuses a negative start, an end not after its start
// and anything else with an EINVALID error that shows the value and the syntax.
func ParseMute(s string) (Mute, error) {
	bad := func(why string) (Mute, error) {
		return Mute{}, consent.Errorf(consent.EINVALID, "--mute %q: %s; %s", clip(s), why, muteSyntax)
	}
	m := Mute{Channel: Both}
	rest := s
	if ch, r, ok := strings.Cut(s, ":"); ok {
		switch Channel(ch) {
		case Caller, Agent:
			m.Channel, rest = Channel(ch), r
		default:
			return bad(fmt.Sprintf("unknown channel %q (caller or agent)", clip(ch)))
		}
	}
	if strings.HasPrefix(rest, "-") {
		return bad("the start is negative")
	}
	a, b, ok := strings.Cut(rest, "-")
	if !ok {
		return bad("no dash between start and end")
	}
	var err error
	if m.Start, err = parseSeconds(a); err != nil {
		return bad("start: " + err.Error())
	}
	if b == "end" {
		m.ToEnd = true
		return m, nil
	}
	if strings.HasPrefix(b, "-") {
		return bad("the end is negative")
	}
	if m.End, err = parseSeconds(b); err != nil {
		return bad("end: " + err.Error())
	}
	if m.End <= m.Start {
		return bad("the end is not after the start")
	}
	return m, nil
}

// maxSeconds bounds a time in a range: no recording is longer than a day (max-call-duration).
const maxSeconds = 86400

// parseSeconds reads a decimal number of seconds exactly (no float rounding): digits, an
// optional point and at most 6 more digits.
func parseSeconds(s string) (time.Duration, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 6 || strings.Trim(whole+frac, "0123456789") != "" || len(whole) > 6 {
		return 0, fmt.Errorf("%q is not a number of seconds", clip(s))
	}
	w, _ := strconv.Atoi(whole)
	if w > maxSeconds {
		return 0, fmt.Errorf("%q is more than a day", clip(s))
	}
	f, _ := strconv.Atoi((frac + "000000")[:6])
	return time.Duration(w)*time.Second + time.Duration(f)*time.Microsecond, nil
}

// seconds writes d as a decimal number of seconds without trailing zeros.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// clip cuts a value quoted in a message, so that a pasted megabyte never fills a terminal.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// span is a muted range of one channel in frames: [from, to).
type span struct{ from, to int64 }

// plan is what the writer mutes: per channel, the spans sorted and merged, none overlapping
// or touching another.
type plan [][]span

// planMutes turns mutes into frames of a recording of frames frames at rate Hz with channels
// channels, merging ranges that overlap or touch on the same channel. A start at a fraction of
// a frame starts at the frame that holds it, an end ends after the frame that holds it, so the
// whole time given is muted. A range that begins or ends after the end of the recording is
// refused (EINVALID, with the recording's length), as is a one-channel range of a mono
// recording: a typo must not export audio the reviewer meant to mute.
func planMutes(mutes []Mute, frames int64, rate, channels int) (plan, error) {
	if len(mutes) > maxMutes {
		return nil, consent.Errorf(consent.EINVALID, "%d --mute ranges: at most %d", len(mutes), maxMutes)
	}
	length := time.Duration(frames) * time.Second / time.Duration(rate)
	p := make(plan, channels)
	for _, m := range mutes {
		if m.Channel != Both && channels != 2 {
			return nil, consent.Errorf(consent.EINVALID, "--mute %s: the recording has %d channel(s), not a caller and an agent side; mute both (drop %q)", m, channels, m.Channel+":")
		}
		from := int64(m.Start) * int64(rate) / int64(time.Second)
		to := frames
		if !m.ToEnd {
			to = (int64(m.End)*int64(rate) + int64(time.Second) - 1) / int64(time.Second)
		}
		if from >= frames {
			return nil, consent.Errorf(consent.EINVALID, "--mute %s: starts after the end of the recording, which is only %ss long", m, seconds(length.Truncate(time.Millisecond)))
		} else if to > frames {
			return nil, consent.Errorf(consent.EINVALID, "--mute %s: ends after the end of the recording, which is only %ss long; end it there or write END as \"end\"", m, seconds(length.Truncate(time.Millisecond)))
		}
		for ch := range channels {
			if i := m.Channel.index(); i < 0 || i == ch {
				p[ch] = append(p[ch], span{from, to})
			}
		}
	}
	for ch, spans := range p {
		slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
		merged := spans[:0]
		for _, s := range spans {
			if n := len(merged); n > 0 && s.from <= merged[n-1].to {
				merged[n-1].to = max(merged[n-1].to, s.to)
				continue
			}
			merged = append(merged, s)
		}
		p[ch] = merged
	}
	return p, nil
}
