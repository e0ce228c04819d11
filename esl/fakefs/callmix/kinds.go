// Package callmix places a mix of scripted callers through the fake FreeSWITCH and checks
// every call against what the consent policy requires of the daemon: a caller is recorded
// only after pressing 1, and every caller who stays on the line is transferred to an
// employee. It is the verdict of `callconsent simulate`, and its report.
package callmix

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

// kind is a scripted caller and what the daemon must do with it: record or not, transfer or
// not.
type kind struct {
	record, transfer bool
	script           func(talk time.Duration) fakefs.CallSpec
}

// kinds are the callers by name; talk is how long a transferred caller talks before hanging up.
var kinds = map[string]kind{
	"consent": {true, true, func(talk time.Duration) fakefs.CallSpec {
		return fakefs.CallSpec{Script: []fakefs.Step{fakefs.Press(fakefs.AtNoticeHeard, 10*time.Millisecond, "1")}, HangupAfterTransfer: talk}
	}},
	"decline": {false, true, func(talk time.Duration) fakefs.CallSpec {
		return fakefs.CallSpec{Script: []fakefs.Step{fakefs.Press(fakefs.AtNoticeHeard, 10*time.Millisecond, "2")}, HangupAfterTransfer: talk}
	}},
	"no-input": {false, true, func(talk time.Duration) fakefs.CallSpec {
		return fakefs.CallSpec{HangupAfterTransfer: talk}
	}},
	"invalid": {true, true, func(talk time.Duration) fakefs.CallSpec {
		return fakefs.CallSpec{Script: []fakefs.Step{fakefs.Press(fakefs.AtNoticeHeard, 10*time.Millisecond, "3"), fakefs.PressOnTry(2, 10*time.Millisecond, "1")}, HangupAfterTransfer: talk}
	}},
	// early presses 1 at answer: as on a real FreeSWITCH (l-key-at-answer) the key arrives
	// after flush_dtmf, waits for the next application and must not count.
	"early": {false, true, func(talk time.Duration) fakefs.CallSpec {
		return fakefs.CallSpec{Script: []fakefs.Step{fakefs.Press(fakefs.AtFlush, 0, "1")}, HangupAfterTransfer: talk}
	}},
	"hangup": {false, false, func(time.Duration) fakefs.CallSpec {
		return fakefs.CallSpec{Script: []fakefs.Step{fakefs.HangUp(fakefs.AtPrompt, 20*time.Millisecond)}}
	}},
}

// Kinds are the names of the callers, sorted.
func Kinds() []string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// ParseMix reads "consent=60,decline=20,..." into weights per caller kind. Its error says
// what is wrong with the value, for the caller to name the flag.
func ParseMix(s string) (map[string]int, error) {
	mix := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(v)
		if _, known := kinds[k]; !ok || !known || err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not kind=weight with kind one of %s", part, strings.Join(Kinds(), ", "))
		}
		mix[k] += n
	}
	total := 0
	for _, n := range mix {
		total += n
	}
	if total == 0 {
		return nil, errors.New("weights add up to 0")
	}
	return mix, nil
}

// Plan spreads n calls over the kinds in proportion to the weights, interleaved (a smooth
// weighted round-robin), so that a short run has the same mix as a long one.
func Plan(n int, mix map[string]int) []string {
	names := Kinds()
	total, cur := 0, map[string]int{}
	for _, k := range names {
		total += mix[k]
	}
	out := make([]string, 0, n)
	for range n {
		best := ""
		for _, k := range names {
			if mix[k] == 0 {
				continue
			}
			cur[k] += mix[k]
			if best == "" || cur[k] > cur[best] {
				best = k
			}
		}
		cur[best] -= total
		out = append(out, best)
	}
	return out
}

// Check compares what the daemon did with a call with what the caller's choice requires: ""
// when it did right, else what went wrong.
func Check(kind string, res fakefs.CallResult) string {
	k := kinds[kind]
	recorded := slices.Contains(res.Apps, "record_session")
	switch {
	case res.Err != nil:
		return fmt.Sprintf("%s call failed: %v", kind, res.Err)
	case recorded && !k.record:
		return fmt.Sprintf("%s caller was RECORDED", kind)
	case !recorded && k.record:
		return fmt.Sprintf("%s caller was not recorded", kind)
	case k.transfer && !slices.Contains(res.Apps, "transfer"):
		return fmt.Sprintf("%s caller was not transferred", kind)
	}
	return ""
}
