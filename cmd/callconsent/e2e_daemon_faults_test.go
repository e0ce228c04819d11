package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
)

// restart closes the harness's daemon and opens another on the same folder, configuration
// and FreeSWITCH, after setup (nil: none) has adjusted it: what a restart of callconsent does.
func (h *harness) restart(setup func(d *daemon)) {
	h.t.Helper()
	h.d.Close()
	d := newDaemon(h.cfg, slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	d.wrapStore = func(s consent.Store) consent.Store { return &observedStore{Store: s, log: h.commits} }
	if setup != nil {
		setup(d)
	}
	if err := d.Open(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	h.d = d
}

// panicOnDecline is a store whose DecideCall panics on a decline, as a bug in the flow would;
// the panic's value holds a caller number, which must reach no log.
type panicOnDecline struct{ consent.Store }

func (s panicOnDecline) DecideCall(ctx context.Context, id string, d consent.Decision, p *consent.Proof) error {
	if d == consent.DecisionDeclined {
		panic("declined by caller " + callerData[0])
	}
	return s.Store.DecideCall(ctx, id, d, p)
}

// A panic in one call's flow is recovered: the call's socket is closed (FreeSWITCH's dialplan
// fallback takes the caller on), the panic is logged with its stack and counted, status shows
// it as an alarm (exit 5), and the next calls are handled as usual.
func TestE2E_PanicInCallRecovered(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	h.restart(func(d *daemon) {
		d.wrapStore = func(s consent.Store) consent.Store { return panicOnDecline{s} }
	})
	h.waitFor("control connection ready", h.d.control.Ready)

	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}})
	h.waitFor("the flow gone", func() bool { return h.d.live.Len() == 0 })
	ok := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: minRecording})
	if c := h.finalCall(ok.UUID); c.Decision != consent.DecisionGranted || c.Recording.State != consent.RecordingComplete {
		t.Errorf("the call after the panic: %s, recording %+v", c.Decision, c.Recording)
	}

	var out bytes.Buffer
	err := runStatus(h.ctx, h.cfg, statusOptions{}, &out)
	if exitCode(err, true) != exitAlarm {
		t.Errorf("status: exit %d (%v), want %d", exitCode(err, true), err, exitAlarm)
	}
	for _, want := range []string{"ALARM recovered-panic since", "1 panic(s) recovered since start, the last in call",
		`callconsent_panics_recovered_total{loop="call"} 1`, `callconsent_panics_recovered_total{loop="reconcile"} 0`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "alarm: panic recovered; going on") || !strings.Contains(logs, "call="+res.UUID) ||
		!strings.Contains(logs, "panicOnDecline.DecideCall") {
		t.Errorf("the panic is not logged with its call and stack:\n%s", logs)
	}
	// assertNoCallerData (cleanup) checks that the panic's value, a caller number, is in no log.
}

// A second daemon started on the same configuration while one runs stops at the control
// socket, before it touches the database: the calls the running daemon drives are not its to
// abandon (settleLeftovers abandons every pending call no flow of its own drives).
func TestE2E_SecondDaemonLeavesCallsAlone(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	done := h.startCall(fakefs.CallSpec{}) // silence: pending until the tries run out
	var uuid string
	h.waitFor("a pending call", func() bool {
		calls, err := h.d.store.DB.FindCalls(h.ctx, consent.CallFilter{Decision: consent.DecisionPending})
		if err == nil && len(calls) == 1 {
			uuid = calls[0].UUID
		}
		return uuid != ""
	})
	second := newDaemon(h.cfg, slog.New(slog.NewTextHandler(h.logs, nil)))
	err := second.Open(h.ctx)
	if consent.ErrorCode(err) != consent.ECONFLICT || !strings.Contains(err.Error(), "another callconsent daemon is running") {
		t.Errorf("second daemon: %v, want a conflict", err)
	}
	<-done
	if c := h.finalCall(uuid); c.Decision != consent.DecisionNoInput {
		t.Errorf("the running daemon's call ended %s, want no-input", c.Decision)
	}
	ctlPing(t, h.d, 5*time.Second) // the running daemon's socket survived the attempt
}

// panicOnFind is a store whose FindRecordings panics: every reconcile run fails as a whole.
type panicOnFind struct{ consent.Store }

func (panicOnFind) FindRecordings(context.Context, consent.RecordingFilter) ([]*consent.Recording, error) {
	var rows []*consent.Recording
	return rows[:1], nil // slice bounds out of range
}

// The reconcile loop survives a run that panics, run after run (a crafted recording crashed
// the daemon every minute after each restart): each is logged and counted, the loop goes on,
// and calls are still handled.
func TestE2E_ReconcileLoopRecovers(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	h.restart(func(d *daemon) {
		d.wrapStore = func(s consent.Store) consent.Store { return panicOnFind{s} }
		d.reconcileEvery = 50 * time.Millisecond
	})
	h.waitFor("three reconcile runs recovered", func() bool {
		var b strings.Builder
		h.d.panics.writeText(&b)
		return strings.Contains(b.String(), `{loop="reconcile"} 3`)
	})
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}})
	if c := h.finalCall(res.UUID); c.Decision != consent.DecisionDeclined {
		t.Errorf("call after the panics: %s", c.Decision)
	}
	if !strings.Contains(h.logs.String(), "slice bounds out of range [:1] with capacity 0") {
		t.Errorf("the panic's runtime error is not logged")
	}
}
