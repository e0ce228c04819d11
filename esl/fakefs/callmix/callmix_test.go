package callmix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

func TestParseMixAndPlan(t *testing.T) {
	mix, err := ParseMix("consent=60,decline=20,no-input=10,hangup=10")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, k := range Plan(100, mix) {
		got[k]++
	}
	for k, want := range mix {
		if got[k] != want {
			t.Errorf("%s: %d of 100 calls, want %d", k, got[k], want)
		}
	}
	// A short run keeps the mix: the first 10 calls already hold every kind.
	first := map[string]bool{}
	for _, k := range Plan(10, mix) {
		first[k] = true
	}
	if len(first) != 4 {
		t.Errorf("first 10 calls cover %v", first)
	}
	// (The command turns these errors into usage errors: TestBadInput_OneClearError.)
	for _, bad := range []string{"consent", "consent=x", "maybe=3", "consent=-1", "consent=0", ""} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}

// TestCheck: the verdict on a call follows the caller's choice: only a caller who pressed 1
// may be recorded, and every caller who stays on the line must be transferred.
func TestCheck(t *testing.T) {
	recorded := []string{"answer", "play_and_get_digits", "record_session", "transfer"}
	unrecorded := []string{"answer", "play_and_get_digits", "transfer"}
	for _, tc := range []struct {
		kind string
		res  fakefs.CallResult
		want string
	}{
		{"consent", fakefs.CallResult{Apps: recorded}, ""},
		{"invalid", fakefs.CallResult{Apps: recorded}, ""},
		{"decline", fakefs.CallResult{Apps: unrecorded}, ""},
		{"early", fakefs.CallResult{Apps: unrecorded}, ""},
		{"hangup", fakefs.CallResult{Apps: []string{"answer", "play_and_get_digits"}}, ""},
		{"decline", fakefs.CallResult{Apps: recorded}, "decline caller was RECORDED"},
		{"early", fakefs.CallResult{Apps: recorded}, "early caller was RECORDED"},
		{"hangup", fakefs.CallResult{Apps: []string{"answer", "record_session"}}, "hangup caller was RECORDED"},
		{"consent", fakefs.CallResult{Apps: unrecorded}, "consent caller was not recorded"},
		{"no-input", fakefs.CallResult{Apps: []string{"answer", "play_and_get_digits"}}, "no-input caller was not transferred"},
		{"consent", fakefs.CallResult{Apps: recorded, Err: errors.New("dial: refused")}, "consent call failed: dial: refused"},
	} {
		if got := Check(tc.kind, tc.res); got != tc.want {
			t.Errorf("Check(%s, %v, %v) = %q, want %q", tc.kind, tc.res.Apps, tc.res.Err, got, tc.want)
		}
	}
}

// TestReport_MoreErrors: the text report says how many errors it does not list.
func TestReport_MoreErrors(t *testing.T) {
	r := Report{Calls: 40, Errors: 25, ByKind: map[string]int{"consent": 40}}
	for range 10 {
		r.FirstErrors = append(r.FirstErrors, "x: consent caller was not recorded")
	}
	var out bytes.Buffer
	r.WriteText(&out)
	if !strings.HasSuffix(out.String(), "  x: consent caller was not recorded\n  … and 15 more\n") {
		t.Errorf("report:\n%s", out.String())
	}
}

// TestReport_Output: the JSON and the text of a report, byte for byte, as simulate printed
// them before the report moved here (scripts read the JSON: its field names are a contract).
func TestReport_Output(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	var results []Result
	for i := range 13 {
		kind := []string{"consent", "decline", "hangup"}[i%3]
		res := fakefs.CallResult{UUID: fmt.Sprintf("u%02d", i), Apps: []string{"answer", "transfer"}}
		if kind == "consent" {
			res.Apps = append(res.Apps, "record_session")
			res.Recordings = []fakefs.RecordingInfo{{FileSize: int64(1000 + i)}}
			res.DigitAccepted = t0
			res.RecordSessionAt = t0.Add(time.Duration(i+1) * 1300 * time.Microsecond)
		}
		if i == 4 {
			res.Err = errors.New("boom")
		}
		results = append(results, Result{Kind: kind, Call: res, Mismatch: Check(kind, res)})
	}
	r := Summarize(results, 2500*time.Millisecond, 7)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	r.WriteText(&text)
	const wantJSON = `{
  "calls": 13,
  "seconds": 2.5,
  "calls_per_second": 5.2,
  "concurrency": 7,
  "by_caller": {
    "consent": 5,
    "decline": 4,
    "hangup": 4
  },
  "recordings_written": 5,
  "recording_bytes": 5030,
  "transfers": 13,
  "errors": 1,
  "first_errors": [
    "u04: decline call failed: boom"
  ],
  "digit_to_record_p50_ms": 9.1,
  "digit_to_record_p99_ms": 16.9,
  "digit_to_record_max_ms": 16.9,
  "digit_to_record_samples": 5
}`
	const wantText = `calls:        13 in 2.5 s (5.2 calls/s), concurrency 7
by caller:    consent=5 decline=4 hangup=4
recordings:   5 written (5030 bytes)
transfers:    13
digit→record_session: p50 9.10 ms, p99 16.90 ms, max 16.90 ms (5 calls)
errors:       1
  u04: decline call failed: boom
`
	if string(b) != wantJSON {
		t.Errorf("JSON:\n%s\nwant:\n%s", b, wantJSON)
	}
	if text.String() != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), wantText)
	}
}
