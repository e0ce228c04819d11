package main

import (
	"slices"
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
