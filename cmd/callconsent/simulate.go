package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

// callerKinds are the scripted callers simulate can place, each with what the daemon must
// do with it: record or not, transfer or not.
var callerKinds = map[string]struct {
	record, transfer bool
	script           func(talk time.Duration) fakefs.CallSpec
}{
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

// parseMix reads "consent=60,decline=20,..." into weights per caller kind.
func parseMix(s string) (map[string]int, error) {
	mix := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(v)
		if _, known := callerKinds[k]; !ok || !known || err != nil || n < 0 {
			return nil, invalidf("simulate: --mix: %q is not kind=weight with kind one of %s", part, strings.Join(kindNames(), ", "))
		}
		mix[k] += n
	}
	total := 0
	for _, n := range mix {
		total += n
	}
	if total == 0 {
		return nil, invalidf("simulate: --mix: weights add up to 0")
	}
	return mix, nil
}

func kindNames() []string {
	var names []string
	for k := range callerKinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// plan spreads n calls over the kinds in proportion to the weights, interleaved (a smooth
// weighted round-robin), so that a short run has the same mix as a long one.
func plan(n int, mix map[string]int) []string {
	kinds := kindNames()
	total, cur := 0, map[string]int{}
	for _, k := range kinds {
		total += mix[k]
	}
	out := make([]string, 0, n)
	for range n {
		best := ""
		for _, k := range kinds {
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

// simResult is one call as the fake FreeSWITCH saw it.
type simResult struct {
	kind     string
	res      fakefs.CallResult
	mismatch string
}

// runCalls places the planned calls with at most conc in flight; done, when set, is told of
// each finished call, one at a time.
func runCalls(ctx context.Context, fs *fakefs.Server, daemon string, kinds []string, conc int, talk time.Duration, done func(simResult)) []simResult {
	out := make([]simResult, len(kinds))
	var doneMu sync.Mutex
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, kind := range kinds {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			out[i] = simResult{kind: kind, mismatch: "not placed: interrupted"}
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			k := callerKinds[kind]
			res, err := fs.Call(ctx, daemon, k.script(talk))
			if err != nil && res.Err == nil {
				res.Err = err
			}
			out[i] = simResult{kind: kind, res: res, mismatch: checkCall(kind, res)}
			if done != nil {
				doneMu.Lock()
				done(out[i])
				doneMu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// check compares what the daemon did with what the caller's choice requires.
func checkCall(kind string, res fakefs.CallResult) string {
	k := callerKinds[kind]
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
