package consent_test

import (
	"testing"

	"github.com/callconsent/callconsent/consent"
)

func TestCheckRecordingTransition(t *testing.T) {
	legal := map[[2]consent.RecordingState]bool{
		{consent.RecordingPending, consent.RecordingRecording}:  true,
		{consent.RecordingPending, consent.RecordingFailed}:     true,
		{consent.RecordingPending, consent.RecordingDeleting}:   true,
		{consent.RecordingRecording, consent.RecordingComplete}: true,
		{consent.RecordingRecording, consent.RecordingFailed}:   true,
		{consent.RecordingRecording, consent.RecordingDeleting}: true,
		{consent.RecordingComplete, consent.RecordingDeleting}:  true,
		{consent.RecordingFailed, consent.RecordingDeleting}:    true,
		{consent.RecordingDeleting, consent.RecordingDeleted}:   true,
	}
	// Every pair of states, so that a transition added by accident shows up here.
	for _, from := range consent.RecordingStates {
		for _, to := range consent.RecordingStates {
			err := consent.CheckRecordingTransition(from, to)
			if want := legal[[2]consent.RecordingState{from, to}]; want != (err == nil) {
				t.Errorf("%s -> %s: legal=%v, got err=%v", from, to, want, err)
			} else if err != nil && consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("%s -> %s: code %q, want invalid", from, to, consent.ErrorCode(err))
			}
		}
	}
	if err := consent.CheckRecordingTransition("bogus", consent.RecordingDeleted); err == nil {
		t.Error("unknown state accepted")
	}
}

func TestCheckDecisionTransition(t *testing.T) {
	for _, from := range consent.Decisions {
		for _, to := range consent.Decisions {
			err := consent.CheckDecisionTransition(from, to)
			want := from == consent.DecisionPending && to != consent.DecisionPending
			if want != (err == nil) {
				t.Errorf("%s -> %s: legal=%v, got err=%v", from, to, want, err)
			}
		}
	}
	if _, err := consent.ParseDecision("maybe"); consent.ErrorCode(err) != consent.EINVALID {
		t.Errorf("ParseDecision(maybe) = %v", err)
	}
}

func TestValidUUID(t *testing.T) {
	for s, want := range map[string]bool{
		"260cc426-4b20-4054-b379-5ba800345a1c":  true,
		"260CC426-4B20-4054-B379-5BA800345A1C":  false, // canonical form is lower case
		"260cc426-4b20-4054-B379-5ba800345a1c":  false,
		"260cc426-4b20-4054-b379-5ba800345a1":   false,
		"260cc426x4b20-4054-b379-5ba800345a1c":  false,
		"../../../etc/passwd-0000-000000000000": false,
		"":                                      false,
	} {
		if got := consent.ValidUUID(s); got != want {
			t.Errorf("ValidUUID(%q) = %v", s, got)
		}
	}
	for in, want := range map[string]string{
		"260CC426-4B20-4054-B379-5BA800345A1C": "260cc426-4b20-4054-b379-5ba800345a1c",
		"260cc426-4b20-4054-b379-5ba800345a1c": "260cc426-4b20-4054-b379-5ba800345a1c",
	} {
		if got, ok := consent.CanonicalUUID(in); !ok || got != want {
			t.Errorf("CanonicalUUID(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := consent.CanonicalUUID("../260cc426-4b20-4054-b379-5ba800345a"); ok {
		t.Error("CanonicalUUID accepted a path")
	}
}
