package main

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
)

// A key pressed at answer reaches a real FreeSWITCH after flush_dtmf and waits for the next
// application (l-key-at-answer: the first play_and_get_digits took it before a sample of the
// notice played, and the caller was recorded 64 ms after the call came in). The fake holds the
// key for that next application too; the caller must hear the notice before any key counts, so
// such a caller is not recorded.
func TestE2E_KeyAtAnswerIsNotConsent(t *testing.T) {
	// A park loop slower than the daemon: the key is sure to wait for the next application,
	// the order the real switch showed.
	h := startHarness(t, fakefs.Config{ParkTick: 5 * time.Second})
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{fakefs.Press(fakefs.AtFlush, 0, "1")}})
	c := h.finalCall(res.UUID)
	if c.Decision != consent.DecisionNoInput || slices.Contains(appsOf(h, res.UUID), "record_session") {
		t.Fatalf("decision %s, apps %q: a key pressed at answer counted", c.Decision, appsOf(h, res.UUID))
	}
	if res.Digits != "1" {
		t.Fatalf("the caller pressed %q", res.Digits)
	}
}

// The same caller presses 1 again once the notice has played: now it counts, and the proof
// says how much of the notice the caller had heard, by FreeSWITCH's clock.
func TestE2E_KeyAtAnswerThenConsent(t *testing.T) {
	h := startHarness(t, fakefs.Config{ParkTick: 5 * time.Second})
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{fakefs.Press(fakefs.AtFlush, 0, "1"), pressAfterNotice("1")}, HangupAfterTransfer: minRecording})
	c := h.finalCall(res.UUID)
	if c.Decision != consent.DecisionGranted || c.Recording == nil || c.Recording.State != consent.RecordingComplete {
		t.Fatalf("decision %s, recording %+v", c.Decision, c.Recording)
	}
	if heard := time.Duration(c.Proof.HeardMS) * time.Millisecond; heard < h.cfg.MinNotice || heard > testNoticeLen+100*time.Millisecond {
		t.Errorf("heard %s, want at least min-notice %s and about the notice's %s", heard, h.cfg.MinNotice, testNoticeLen)
	}
	assertGrantBeforeRecord(t, h, res.UUID)
}

// A notice longer than FreeSWITCH's playback block: its first min-notice plays whole, every key
// pressed meanwhile is discarded; the rest goes on from where the first part stopped and 1 or 2
// end it (other keys are ignored until the notice is over). The proof's heard time is the first
// part plus the rest up to the key.
func TestE2E_KeyDuringNotice(t *testing.T) {
	h := startHarness(t, fakefs.Config{}, append(testNoticeFlags(t, 3*time.Second), "--min-notice", "2s")...)
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{
		fakefs.Press(fakefs.AtPrompt, 300*time.Millisecond, "1"),  // first part: discarded
		fakefs.Press(fakefs.AtPrompt, 1500*time.Millisecond, "2"), // first part: discarded
		fakefs.Press(fakefs.AtNoticeHeard, 100*time.Millisecond, "3"),
		fakefs.Press(fakefs.AtNoticeHeard, 400*time.Millisecond, "1"),
	}, HangupAfterTransfer: minRecording})
	c := h.finalCall(res.UUID)
	if c.Decision != consent.DecisionGranted || c.Proof.Tries != 1 || c.Proof.Digit != "1" {
		t.Fatalf("decision %s proof %+v", c.Decision, c.Proof)
	}
	want := []string{"answer", "flush_dtmf", "set", "playback", "set", "playback", "record_session", "unset", "transfer"}
	if apps := appsOf(h, res.UUID); !slices.Equal(apps, want) {
		t.Errorf("apps %q, want %q", apps, want)
	}
	var args []string
	for _, c := range h.fs.CommandsFor(res.UUID) {
		if c.App == "playback" || c.App == "set" || c.App == "unset" {
			args = append(args, c.AppArg)
		}
	}
	n := h.cfg.Notices["nb"].File
	wantArgs := []string{"playback_terminators=none", "{timeout=2000}" + n, "playback_terminators=12", n + "@@16384", "playback_terminators"}
	if !slices.Equal(args, wantArgs) {
		t.Errorf("arguments %q, want %q", args, wantArgs)
	}
	// 2.048 s of the first part plus 0.4 s of the rest, give or take the fake's ticks.
	if heard := c.Proof.HeardMS; heard < 2400 || heard > 2600 {
		t.Errorf("heard %d ms, want about 2448", heard)
	}
}

// Another local account runs its own fake FreeSWITCH against callconsent's outbound port and
// hands it a "call" with a UUID and caller of its choosing, and presses 1. The FreeSWITCH that
// callconsent is connected to does not know that channel: nothing is stored or recorded, the
// refusal is counted, and a real call right after is taken as always.
func TestE2E_ForgedCallIsRefused(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	impostor := h.impostor()
	forged := "0badc0de-1111-4222-8333-444455556666"
	res, err := impostor.Call(h.ctx, h.d.outbound.Addr().String(), fakefs.CallSpec{UUID: forged, Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: minRecording})
	if err != nil {
		t.Fatal(err)
	}
	h.waitFor("the forged call to end", func() bool { return !h.d.live.Has(forged) })
	if _, err := h.d.store.DB.FindCall(h.ctx, forged); consent.ErrorCode(err) != consent.ENOTFOUND {
		t.Errorf("the forged call has a row: %v", err)
	}
	if slices.Contains(res.Apps, "record_session") {
		t.Errorf("the forged call got record_session: %q", res.Apps)
	}
	if st, _ := h.d.metrics.Text(); !strings.Contains(st, "callconsent_calls_refused_total 1") {
		t.Errorf("refusal not counted:\n%s", st)
	}
	real := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}})
	if c := h.finalCall(real.UUID); c.Decision != consent.DecisionDeclined {
		t.Errorf("the real call after: %s", c.Decision)
	}
}

// A forged call that names a channel FreeSWITCH has, but not its caller, is refused too.
func TestE2E_ForgedCallerIsRefused(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	aLeg := "a1e90000-1111-4222-8333-444455556666"
	live := h.startCall(fakefs.CallSpec{ALegUUID: aLeg, Script: []fakefs.Step{fakefs.HangUp(fakefs.AtPrompt, 3*time.Second)}})
	h.waitFor("a live call", func() bool { return h.d.live.Len() == 1 })
	// The daemon refuses a second hand-over of a live UUID outright; the impostor names a
	// channel FreeSWITCH has that no socket holds: the caller's own A-leg.
	res, err := h.impostor().Call(h.ctx, h.d.outbound.Addr().String(), fakefs.CallSpec{UUID: aLeg, CallerIDNumber: "+4799999999", Script: []fakefs.Step{pressAfterNotice("1")}})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(res.Apps, "record_session") {
		t.Errorf("the forged call got record_session: %q", res.Apps)
	}
	h.waitFor("the forged call to end", func() bool { return !h.d.live.Has(aLeg) })
	if _, err := h.d.store.DB.FindCall(h.ctx, aLeg); consent.ErrorCode(err) != consent.ENOTFOUND {
		t.Errorf("the forged call has a row: %v", err)
	}
	<-live
}

// impostor is a second fake FreeSWITCH, which callconsent's control connection knows nothing of.
func (h *harness) impostor() *fakefs.Server {
	h.t.Helper()
	s := fakefs.New(fakefs.Config{Logger: slog.New(slog.NewTextHandler(h.logs, nil))})
	if err := s.Open(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { s.Close() })
	return s
}

// The dialplan's own playback_terminators comes back before the transfer, so that the
// employee's side plays its prompts as it expects to; one that would break the command line
// is unset instead.
func TestE2E_TerminatorsRestored(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	for _, tc := range []struct{ value, want string }{{"#", "playback_terminators=#"}, {"1\n2", "playback_terminators"}} {
		res := h.call(fakefs.CallSpec{Vars: []fakefs.Var{{Name: "playback_terminators", Value: tc.value}}, Script: []fakefs.Step{pressAfterNotice("2")}})
		h.finalCall(res.UUID)
		var last string
		for _, c := range h.fs.CommandsFor(res.UUID) {
			if c.App == "transfer" {
				break
			}
			if c.App == "set" || c.App == "unset" {
				last = c.AppArg
			}
		}
		if last != tc.want {
			t.Errorf("terminators %q: before the transfer %q, want %q", tc.value, last, tc.want)
		}
	}
}
