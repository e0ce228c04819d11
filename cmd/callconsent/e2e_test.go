package main

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
	"github.com/callconsent/callconsent/recordings"
)

// appsOf returns the applications the daemon executed on a call, in order.
func appsOf(h *harness, uuid string) []string {
	var apps []string
	for _, c := range h.fs.CommandsFor(uuid) {
		if c.App != "" {
			apps = append(apps, c.App)
		}
	}
	return apps
}

func TestE2E_Scenarios(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	for _, tt := range []struct {
		name     string
		spec     fakefs.CallSpec
		decision consent.Decision
		tries    int
		rec      consent.RecordingState // "" = never a record_session
		apps     []string
	}{
		{name: "Consent", spec: fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: minRecording},
			decision: consent.DecisionGranted, tries: 1, rec: consent.RecordingComplete,
			apps: []string{"answer", "flush_dtmf", "set", "playback", "play_and_get_digits", "record_session", "unset", "transfer"}},
		{name: "Decline", spec: fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}},
			decision: consent.DecisionDeclined, tries: 1, apps: []string{"answer", "flush_dtmf", "set", "playback", "play_and_get_digits", "unset", "transfer"}},
		{name: "NoInput", decision: consent.DecisionNoInput, tries: 3,
			apps: []string{"answer", "flush_dtmf", "set", "playback", "play_and_get_digits", "play_and_get_digits", "play_and_get_digits", "unset", "transfer"}},
		{name: "InvalidThenConsent", spec: fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("3"), fakefs.PressOnTry(2, 20*time.Millisecond, "1")}, HangupAfterTransfer: minRecording},
			decision: consent.DecisionGranted, tries: 2, rec: consent.RecordingComplete},
		{name: "OnlyInvalidKeys", spec: fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("9"), fakefs.PressOnTry(2, 10*time.Millisecond, "*"), fakefs.PressOnTry(3, 10*time.Millisecond, "0")}},
			decision: consent.DecisionNoInput, tries: 3},
		{name: "EarlyDigit", spec: fakefs.CallSpec{Script: []fakefs.Step{fakefs.Press(fakefs.AtAnswer, 0, "1")}},
			decision: consent.DecisionNoInput, tries: 3},
		{name: "HangupDuringPrompt", spec: fakefs.CallSpec{Script: []fakefs.Step{fakefs.HangUp(fakefs.AtPrompt, 20*time.Millisecond)}},
			decision: consent.DecisionAbandoned, apps: []string{"answer", "flush_dtmf", "set", "playback"}},
		{name: "RecordNotStarted", spec: fakefs.CallSpec{FailRecordSession: true, Script: []fakefs.Step{pressAfterNotice("1")}},
			decision: consent.DecisionGranted, tries: 1, rec: consent.RecordingFailed},
		{name: "ShortRecordingDiscarded", spec: fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: 200 * time.Millisecond},
			decision: consent.DecisionGranted, tries: 1, rec: consent.RecordingFailed},
		{name: "EnglishNotice", spec: fakefs.CallSpec{Lang: "en", CallerIDNumber: "0047 912 34 567", Script: []fakefs.Step{pressAfterNotice("2")}},
			decision: consent.DecisionDeclined, tries: 1},
		{name: "AnonymousCaller", spec: fakefs.CallSpec{CallerIDNumber: "anonymous", Script: []fakefs.Step{pressAfterNotice("2")}},
			decision: consent.DecisionDeclined, tries: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := h.call(tt.spec)
			c := h.finalCall(res.UUID)
			if c.Decision != tt.decision {
				t.Fatalf("decision %s, want %s", c.Decision, tt.decision)
			}
			apps := appsOf(h, res.UUID)
			if tt.apps != nil && !slices.Equal(apps, tt.apps) {
				t.Errorf("apps %q, want %q", apps, tt.apps)
			}
			// What FreeSWITCH executed, not only what we sent: the caller really reached the
			// employee, and the call ended as the caller ended it, not dropped by an error.
			if tt.decision != consent.DecisionAbandoned && !slices.Contains(res.Apps, "transfer") {
				t.Errorf("caller not transferred: executed %q", res.Apps)
			}
			if res.HangupCause != "NORMAL_CLEARING" {
				t.Errorf("hangup cause %q, want the caller's NORMAL_CLEARING", res.HangupCause)
			}
			if got := slices.Contains(apps, "record_session"); got != (tt.rec != "") {
				t.Fatalf("record_session sent: %v, want %v", got, tt.rec != "")
			}
			if tt.tries > 0 {
				lang := cmp.Or(tt.spec.Lang, "nb")
				n := h.cfg.Notices[lang]
				p := c.Proof
				if p == nil || p.Tries != tt.tries || p.Language != lang || p.NoticeVersion != n.Version || p.NoticeSHA256 != n.SHA256 || len(p.NoticeSHA256) != 64 {
					t.Errorf("proof %+v, want tries %d, %s notice %s", p, tt.tries, lang, n.Version)
				}
			}
			switch {
			case tt.spec.CallerIDNumber == "anonymous":
				if c.CallerPseudonym != consent.AnonymousPseudonym {
					t.Errorf("pseudonym %q, want anonymous", c.CallerPseudonym)
				}
			case len(c.CallerPseudonym) != 64:
				t.Errorf("pseudonym %q", c.CallerPseudonym)
			}
			if tt.rec == "" {
				return
			}
			if c.Recording == nil || c.Recording.State != tt.rec {
				t.Fatalf("recording %+v, want %s", c.Recording, tt.rec)
			}
			want := recordings.Path(h.cfg.RecordingsDir, res.UUID, c.Recording.StartedAt)
			if c.Recording.Path != want {
				t.Errorf("path %s, want %s", c.Recording.Path, want)
			}
			if tt.rec == consent.RecordingComplete {
				info, err := recordings.InspectWAV(c.Recording.Path)
				if err != nil || info.Channels != 2 || info.SampleRate != 8000 || info.DataBytes == 0 {
					t.Errorf("wav %+v, err %v", info, err)
				}
				if c.Recording.Bytes != info.Bytes || c.Recording.DurationMS != info.Duration.Milliseconds() {
					t.Errorf("row %+v does not match file %+v", c.Recording, info)
				}
				assertGrantBeforeRecord(t, h, res.UUID)
			}
		})
	}
	t.Run("SamePseudonymAcrossSpellings", func(t *testing.T) {
		calls, err := h.d.store.DB.FindCalls(h.ctx, consent.CallFilter{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, c := range calls {
			seen[c.CallerPseudonym]++
		}
		// The default +4791234567 and "0047 912 34 567" are one caller.
		if len(seen) != 2 {
			t.Errorf("pseudonyms %v, want the default caller and anonymous", seen)
		}
	})
}

// minRecording is how long a recorded test call lasts after the transfer: FreeSWITCH discards
// recordings shorter than RECORD_MIN_SEC=1, and so does the fake.
const minRecording = 1200 * time.Millisecond

// assertGrantBeforeRecord checks that FreeSWITCH received record_session only after the
// grant's commit had returned (R-CONSENT-3).
func assertGrantBeforeRecord(t *testing.T, h *harness, uuid string) {
	t.Helper()
	decided, ok := h.commits.decidedAt(uuid)
	if !ok {
		t.Fatalf("call %s: record_session without a committed grant", uuid)
	}
	for _, c := range h.fs.CommandsFor(uuid) {
		if c.App == "record_session" {
			if c.Time.Before(decided) {
				t.Errorf("call %s: record_session at %v, grant committed at %v", uuid, c.Time, decided)
			}
			if !strings.Contains(c.AppArg, "{RECORD_STEREO=true,RECORD_MIN_SEC=1}") {
				t.Errorf("record_session arg %q is not stereo", c.AppArg)
			}
		}
	}
}
