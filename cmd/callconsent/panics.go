package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/retention"
)

// The daemon's loops that recover from a panic per item and go on (metrics.Loops).
const (
	loopCall      = "call"           // one call's flow
	loopReconcile = "reconcile"      // one reconcile run, or one row of it
	loopControl   = "control-socket" // one request on the control socket
	loopSweep     = "sweep"          // one scheduled retention sweep
)

// alarmKindPanic is the status alarm of recovered panics. A panic is a bug whose effect is
// not known (a row left half-done, a file not finalised): it stays an alarm until the daemon
// is restarted, after the cause was looked into.
const alarmKindPanic = "recovered-panic"

// panicLog keeps the panics the daemon's loops recovered from, for status's alarm; the
// registry counts them too (callconsent_panics_recovered_total by loop).
type panicLog struct {
	mu       sync.Mutex
	byLoop   map[string]uint64
	first    time.Time
	last     time.Time
	lastLoop string
}

// add counts one panic in loop at t.
func (p *panicLog) add(loop string, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byLoop == nil {
		p.byLoop = map[string]uint64{}
		p.first = t
	}
	p.byLoop[loop]++
	p.last, p.lastLoop = t, loop
}

// alarm returns the status alarm of the panics so far, if there were any.
func (p *panicLog) alarm() (retention.Alarm, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n uint64
	for _, c := range p.byLoop {
		n += c
	}
	if n == 0 {
		return retention.Alarm{}, false
	}
	return retention.Alarm{Kind: alarmKindPanic, Since: p.first.UTC(), Count: int(n),
		Message: fmt.Sprintf("%d panic(s) recovered since start, the last in %s at %s; the daemon went on, "+
			"but a bug was hit: see the log (\"panic\", with its stack), then restart to clear this alarm",
			n, p.lastLoop, p.last.UTC().Format(time.RFC3339))}, true
}

// recovered logs a panic that one of the daemon's loops recovered from, with its stack, and
// counts it. attrs name the item (a call UUID), never a caller.
func (d *daemon) recovered(loop string, pe *consent.PanicError, attrs ...any) {
	d.panics.add(loop, time.Now())
	d.metrics.PanicRecovered(loop)
	d.log.Error("alarm: panic recovered; going on", append(attrs, "loop", loop, "err", pe.Error(), "stack", string(pe.Stack))...)
}

// counted is an OnPanic hook for a component that logged the panic itself.
func (d *daemon) counted(loop string) func(*consent.PanicError) {
	return func(*consent.PanicError) { d.panics.add(loop, time.Now()); d.metrics.PanicRecovered(loop) }
}
