package metrics

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Check is one condition of readiness: Func returns nil when it holds, else an error that
// says what is wrong in words an operator can act on (and never a caller's data: /readyz
// shows it to anyone who can reach the port).
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Result is the outcome of one Check.
type Result struct {
	Name string
	Err  error
}

// Readiness runs the daemon's checks for /readyz and callconsent_ready. The results are
// kept for CacheFor, and one run serves every caller that asks meanwhile, so that a flood of
// requests costs at most one run (a store write among them) per CacheFor.
type Readiness struct {
	Checks   []Check
	CacheFor time.Duration // 5 s when zero
	Timeout  time.Duration // bound on each check; 2 s when zero
	Now      func() time.Time

	mu      sync.Mutex // held during a run: the callers that arrive meanwhile wait for it
	at      time.Time
	results []Result
}

// Ready runs the checks, or returns the results of a run less than CacheFor old. ok is true
// when every check passed.
func (r *Readiness) Ready(ctx context.Context) (results []Result, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	cache := r.CacheFor
	if cache == 0 {
		cache = 5 * time.Second
	}
	if r.results == nil || now.Sub(r.at) >= cache || now.Before(r.at) {
		r.results = r.run(ctx)
		r.at = r.now()
	}
	ok = true
	for _, res := range r.results {
		ok = ok && res.Err == nil
	}
	return r.results, ok
}

func (r *Readiness) run(ctx context.Context) []Result {
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	out := make([]Result, len(r.Checks))
	for i, c := range r.Checks {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		err := c.Func(cctx)
		if err == nil && cctx.Err() != nil {
			err = fmt.Errorf("did not answer within %s", timeout)
		}
		cancel()
		out[i] = Result{Name: c.Name, Err: err}
	}
	return out
}

func (r *Readiness) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Text is the body of /readyz: one line per check, "name: ok" or "name: what is wrong".
func Text(results []Result) string {
	var b strings.Builder
	for _, res := range results {
		msg := "ok"
		if res.Err != nil {
			msg = strings.ReplaceAll(res.Err.Error(), "\n", " ")
		}
		fmt.Fprintf(&b, "%s: %s\n", res.Name, msg)
	}
	return b.String()
}
