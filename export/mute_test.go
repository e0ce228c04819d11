package export

import (
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

func TestParseMute(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Mute
	}{
		{"12.5-15.25", Mute{Channel: Both, Start: 12500 * time.Millisecond, End: 15250 * time.Millisecond}},
		{"caller:0-3", Mute{Channel: Caller, End: 3 * time.Second}},
		{"agent:1.000125-2", Mute{Channel: Agent, Start: 1000125 * time.Microsecond, End: 2 * time.Second}},
		{"60-end", Mute{Channel: Both, Start: time.Minute, ToEnd: true}},
		{"0.1-0.2", Mute{Channel: Both, Start: 100 * time.Millisecond, End: 200 * time.Millisecond}},
	} {
		t.Run("OK"+tc.in, func(t *testing.T) {
			got, err := ParseMute(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParseMute(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if again, err := ParseMute(got.String()); err != nil || again != got {
				t.Errorf("String() = %q reads back as %+v, %v", got.String(), again, err)
			}
		})
	}
	for _, tc := range []struct{ in, why string }{
		{"", "no dash"},
		{"12.5", "no dash"},
		{"-3-5", "start is negative"},
		{"3--5", "end is negative"},
		{"5-3", "end is not after the start"},
		{"5-5", "end is not after the start"},
		{"a-3", `"a" is not a number`},
		{"1.2345678-3", "not a number"},
		{"1e3-2e3", "not a number"},
		{"1-2-3", "not a number"},
		{"100000-100001", "more than a day"},
		{"left:1-2", `unknown channel "left"`},
		{"caller:end-3", "not a number"},
		{".5-1", "not a number"},
		{" 1-2", "not a number"},
	} {
		t.Run("Err"+tc.in, func(t *testing.T) {
			_, err := ParseMute(tc.in)
			if consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), tc.why) ||
				!strings.Contains(err.Error(), "e.g. 12.5-15.25") {
				t.Fatalf("ParseMute(%q) = %v; want EINVALID saying %q and the syntax", tc.in, err, tc.why)
			}
		})
	}
	t.Run("ErrLongValueClipped", func(t *testing.T) {
		_, err := ParseMute(strings.Repeat("9", 10000))
		if err == nil || len(err.Error()) > 400 {
			t.Fatalf("error of %d bytes: %v", len(err.Error()), err)
		}
	})
}

func TestPlanMutes(t *testing.T) {
	mustParse := func(ss ...string) []Mute {
		var ms []Mute
		for _, s := range ss {
			m, err := ParseMute(s)
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return ms
	}
	const frames = 80000 // 10 s at 8 kHz
	t.Run("OKMerge", func(t *testing.T) {
		p, err := planMutes(mustParse("2-3", "1-1.5", "1.4-2", "caller:5-6", "agent:5.5-end", "caller:5.9-6.1", "4-4.0001"), frames, 8000, 2)
		if err != nil {
			t.Fatal(err)
		}
		// 1-1.5 and 1.4-2 overlap, 2-3 touches them: one span. 4-4.0001 covers the frame
		// that holds 4.0001 (frame 32000) entirely.
		want := plan{
			{{8000, 24000}, {32000, 32001}, {40000, 48800}},
			{{8000, 24000}, {32000, 32001}, {44000, 80000}},
		}
		if len(p) != 2 || !equalSpans(p[0], want[0]) || !equalSpans(p[1], want[1]) {
			t.Fatalf("plan = %v; want %v", p, want)
		}
	})
	t.Run("OKFractionalFrames", func(t *testing.T) {
		// At 8 kHz a frame is 125 µs: 0.0001-0.0002 lies in frame 0 and frame 1.
		p, err := planMutes(mustParse("0.0001-0.0002"), frames, 8000, 1)
		if err != nil || !equalSpans(p[0], []span{{0, 2}}) {
			t.Fatalf("plan = %v, %v", p, err)
		}
	})
	t.Run("OKNone", func(t *testing.T) {
		p, err := planMutes(nil, frames, 8000, 2)
		if err != nil || len(p) != 2 || len(p[0])+len(p[1]) != 0 {
			t.Fatalf("plan = %v, %v", p, err)
		}
	})
	for _, tc := range []struct {
		mute     string
		channels int
		why      string
	}{
		{"9-11", 2, "only 10s long"},
		{"10-end", 2, "only 10s long"},
		{"12-13", 2, "only 10s long"},
		{"caller:1-2", 1, "1 channel(s)"},
	} {
		t.Run("Err"+tc.mute, func(t *testing.T) {
			_, err := planMutes(mustParse(tc.mute), frames, 8000, tc.channels)
			if consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("planMutes(%s) = %v; want EINVALID saying %q", tc.mute, err, tc.why)
			}
		})
	}
	t.Run("ErrTooMany", func(t *testing.T) {
		ms := make([]Mute, maxMutes+1)
		for i := range ms {
			ms[i] = Mute{Channel: Both, End: time.Millisecond}
		}
		if _, err := planMutes(ms, frames, 8000, 2); consent.ErrorCode(err) != consent.EINVALID {
			t.Fatalf("%d mutes: %v", len(ms), err)
		}
		if _, err := planMutes(ms[:maxMutes], frames, 8000, 2); err != nil {
			t.Fatalf("%d mutes: %v", maxMutes, err)
		}
	})
}

func equalSpans(a, b []span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
