package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl"
	"github.com/callconsent/callconsent/esl/fakefs"
)

// startCall places a call in the background and returns its result channel.
func (h *harness) startCall(spec fakefs.CallSpec) <-chan fakefs.CallResult {
	out := make(chan fakefs.CallResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
		defer cancel()
		res, err := h.fs.Call(ctx, h.d.outbound.Addr().String(), spec)
		if err != nil {
			res.Err = err
		}
		out <- res
	}()
	return out
}

// waitRecording waits until the call is being recorded: its grant and recording row are
// stored (the row stays pending until the hang-up commits how the recording went) and
// FreeSWITCH writes the file.
func (h *harness) waitRecording(uuid string) *consent.Recording {
	var rec *consent.Recording
	h.waitFor("recording of "+uuid, func() bool {
		c, err := h.d.store.DB.FindCall(h.ctx, uuid)
		if err != nil || c.Recording == nil || c.Recording.State != consent.RecordingPending {
			return false
		}
		if _, err := os.Stat(c.Recording.Path); err != nil {
			return false
		}
		rec = c.Recording
		return true
	})
	return rec
}

// The three answers FreeSWITCH gives to uuid_record stop (h-withdraw-live), through the
// daemon's control connection: live recording, nothing recording, call gone.
func TestE2E_StopLiveRecording(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	uuid := "4f8c2a10-1111-4c3b-9a3e-0d5b7e9c2f11"
	done := h.startCall(fakefs.CallSpec{UUID: uuid, Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: 1500 * time.Millisecond})
	rec := h.waitRecording(uuid)
	for _, want := range []esl.StopResult{esl.StopStopped, esl.StopNotRecording} {
		got, err := h.d.control.StopRecordingDetail(h.ctx, uuid, rec.Path)
		if err != nil || got != want {
			t.Fatalf("stop: %v, %v; want %v", got, err, want)
		}
	}
	<-done
	h.finalCall(uuid)
	if got, err := h.d.control.StopRecordingDetail(h.ctx, uuid, rec.Path); err != nil || got != esl.StopNoSession {
		t.Fatalf("stop after hangup: %v, %v; want no session", got, err)
	}
	if err := h.d.control.StopRecording(h.ctx, uuid, rec.Path); err != nil {
		t.Errorf("StopRecording of a gone call must be nil (nothing to stop): %v", err)
	}
}

// FreeSWITCH shuts down during a recorded call (i-fs-shutdown): the call ends with
// SYSTEM_SHUTDOWN, the recording is finalised from the file, and once FreeSWITCH is back the
// control connection is up again.
func TestE2E_FreeSWITCHShutdown(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	uuid := "4f8c2a10-2222-4c3b-9a3e-0d5b7e9c2f11"
	done := h.startCall(fakefs.CallSpec{UUID: uuid, Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: -1})
	h.waitRecording(uuid)
	time.Sleep(1100 * time.Millisecond) // past RECORD_MIN_SEC
	if err := h.fs.Shutdown(h.ctx); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.HangupCause != "SYSTEM_SHUTDOWN" {
		t.Errorf("hangup cause %q", res.HangupCause)
	}
	c := h.finalCall(uuid)
	if c.Recording.State != consent.RecordingComplete || c.EndedAt.IsZero() {
		t.Errorf("after shutdown: recording %+v, ended %v", c.Recording, c.EndedAt)
	}
	h.waitFor("control down", func() bool { return !h.d.control.Ready() })
	if err := h.fs.Restart(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.waitFor("control back", h.d.control.Ready)
}

// mixSpec returns a scripted caller of kind i%6: consent, decline, no input, invalid keys
// only, early digit, hang-up at the prompt; with the decision and whether a recording is
// expected.
func mixSpec(i int) (fakefs.CallSpec, consent.Decision, bool) {
	uuid := fmt.Sprintf("5e000000-0000-4000-8000-%012d", i)
	press := func(d string) []fakefs.Step {
		return []fakefs.Step{pressAfterNotice(d)}
	}
	switch i % 6 {
	case 0:
		return fakefs.CallSpec{UUID: uuid, Script: press("1"), HangupAfterTransfer: minRecording}, consent.DecisionGranted, true
	case 1:
		return fakefs.CallSpec{UUID: uuid, Script: press("2")}, consent.DecisionDeclined, false
	case 2:
		return fakefs.CallSpec{UUID: uuid}, consent.DecisionNoInput, false
	case 3:
		return fakefs.CallSpec{UUID: uuid, Script: []fakefs.Step{pressAfterNotice("7"), fakefs.PressOnTry(2, 5*time.Millisecond, "#"), fakefs.PressOnTry(3, 5*time.Millisecond, "5")}}, consent.DecisionNoInput, false
	case 4:
		return fakefs.CallSpec{UUID: uuid, Script: []fakefs.Step{fakefs.Press(fakefs.AtAnswer, 0, "1")}}, consent.DecisionNoInput, false
	default:
		return fakefs.CallSpec{UUID: uuid, Script: []fakefs.Step{fakefs.HangUp(fakefs.AtPrompt, 15*time.Millisecond)}}, consent.DecisionAbandoned, false
	}
}

// Many concurrent calls: record_session reaches FreeSWITCH only for granted calls and only
// after the grant's commit; every other kind of caller produces no recording command at all.
func TestE2E_ManyCallsNeverRecordWithoutGrant(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	const n = 60
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec, want, recorded := mixSpec(i)
			res := h.call(spec)
			c := h.finalCall(res.UUID)
			apps := appsOf(h, res.UUID)
			if c.Decision != want {
				t.Errorf("call %d: decision %s, want %s", i, c.Decision, want)
			}
			if slices.Contains(apps, "record_session") != recorded {
				t.Errorf("call %d (%s): apps %q", i, want, apps)
			}
			if want != consent.DecisionAbandoned && !slices.Contains(res.Apps, "transfer") || res.HangupCause != "NORMAL_CLEARING" {
				t.Errorf("call %d (%s): executed %q, hangup %q", i, want, res.Apps, res.HangupCause)
			}
			if recorded {
				assertGrantBeforeRecord(t, h, res.UUID)
			}
		}()
	}
	wg.Wait()
}

// The control connection is cut 20 times while calls run, and FreeSWITCH restarts in the
// middle: afterwards exactly one control connection is live and every call row is final.
func TestE2E_ControlReconnects(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	const n = 24
	type placed struct {
		done <-chan fakefs.CallResult
		want consent.Decision
	}
	var results []placed
	for i := range n {
		spec, want, _ := mixSpec(i)
		spec.HangupAfterTransfer = 1500 * time.Millisecond
		results = append(results, placed{h.startCall(spec), want})
		if i%2 == 0 {
			h.fs.DropInbound()
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 8 {
		h.fs.DropInbound()
		time.Sleep(30 * time.Millisecond)
	}
	if err := h.fs.Shutdown(h.ctx); err != nil {
		t.Fatal(err)
	}
	var recorded []string
	for _, r := range results {
		res := <-r.done
		if res.Err != nil || r.want != consent.DecisionAbandoned && !slices.Contains(res.Apps, "transfer") && res.HangupCause != "SYSTEM_SHUTDOWN" {
			t.Errorf("call %s: err %v, executed %q, hangup %q", res.UUID, res.Err, res.Apps, res.HangupCause)
		}
		if slices.Contains(res.Apps, "record_session") {
			recorded = append(recorded, res.UUID)
		}
	}
	h.waitFor("control down", func() bool { return !h.d.control.Ready() })
	if err := h.fs.Restart(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.waitFor("control back", h.d.control.Ready)
	h.waitFor("one control connection", func() bool { return h.fs.InboundConns() == 1 })
	// A call FreeSWITCH could not confirm before it ended (the control connection was down
	// all along) has no row; every call that was recorded has one.
	h.waitFor("every call final", func() bool {
		calls, err := h.d.store.DB.FindCalls(h.ctx, consent.CallFilter{})
		if err != nil || len(calls) > n {
			return false
		}
		for _, u := range recorded {
			if !slices.ContainsFunc(calls, func(c *consent.Call) bool { return c.UUID == u }) {
				return false
			}
		}
		for _, c := range calls {
			if !c.Decision.Final() || c.Recording != nil && c.Recording.State.Live() {
				return false
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond) // let a stray second dial show up, if there were one
	if got := h.fs.InboundConns(); got != 1 {
		t.Errorf("%d control connections live, want 1", got)
	}
}
