package callmix

import (
	"context"
	"sync"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

// Result is one call as the fake FreeSWITCH saw it, and the verdict on it.
type Result struct {
	Kind string            // the caller's kind
	Call fakefs.CallResult // what happened on the wire
	// Mismatch is what the daemon did wrong with the call (Check), or why the call could not
	// be made; "" when it did right.
	Mismatch string
}

// Load places planned calls from a fake FreeSWITCH to the daemon.
type Load struct {
	Fake        *fakefs.Server // the fake FreeSWITCH the calls come from
	Daemon      string         // address of the daemon's outbound-socket listener
	Concurrency int            // calls in flight at once, at least 1
	Talk        time.Duration  // how long a transferred caller talks before hanging up
	// Done, when set, is told of each finished call, one at a time.
	Done func(Result)
}

// Run places a call of each kind in plan, at most Concurrency at once, and checks each. Calls
// not placed because ctx ended count as mismatches: "not placed: interrupted".
func (l Load) Run(ctx context.Context, plan []string) []Result {
	out := make([]Result, len(plan))
	var doneMu sync.Mutex
	sem := make(chan struct{}, l.Concurrency)
	var wg sync.WaitGroup
	for i, kind := range plan {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			out[i] = Result{Kind: kind, Mismatch: "not placed: interrupted"}
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := l.Fake.Call(ctx, l.Daemon, kinds[kind].script(l.Talk))
			if err != nil && res.Err == nil {
				res.Err = err
			}
			out[i] = Result{Kind: kind, Call: res, Mismatch: Check(kind, res)}
			if l.Done != nil {
				doneMu.Lock()
				l.Done(out[i])
				doneMu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}
