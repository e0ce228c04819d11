package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// decidedCall is a new call of a random caller, decided d with a grant's proof (digit aside).
func decidedCall(tb testing.TB, d consent.Decision) *consent.Call {
	return &consent.Call{UUID: newUUID(tb), CallerPseudonym: pseudonym(tb), Language: "nb", StartedAt: Now,
		Decision: d, Proof: grantProof(Now.Add(20 * time.Second))}
}

// testStoreDecision: a call's row is stored with its decision in one write, its proof and, for
// a call that ended before its choice, its end.
func (c *contract) testStoreDecision(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		s := c.store(t)
		for _, d := range consent.Decisions {
			if !d.Final() {
				continue
			}
			call := decidedCall(t, d)
			if d == consent.DecisionAbandoned {
				call.Proof, call.EndedAt = nil, Now.Add(time.Minute)
			}
			if err := s.StoreDecision(ctx, call); err != nil {
				t.Fatalf("%s: %v", d, err)
			}
			got := mustFindCall(t, s, call.UUID)
			if got.Decision != d || got.Recording != nil || !got.EndedAt.Equal(call.EndedAt) ||
				(call.Proof == nil) != (got.Proof == nil) || got.Proof != nil && *got.Proof != *call.Proof {
				t.Errorf("%s: stored %+v (proof %+v), want %+v (proof %+v)", d, got, got.Proof, call, call.Proof)
			}
		}
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		s := c.store(t)
		call := mustCreateCall(t, s, pseudonym(t), Now)
		dup := decidedCall(t, consent.DecisionDeclined)
		dup.UUID = call.UUID
		wantCode(t, s.StoreDecision(ctx, dup), consent.ECONFLICT)
		if got := mustFindCall(t, s, call.UUID); got.Decision != consent.DecisionPending {
			t.Errorf("the stored call became %s", got.Decision)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := c.store(t)
		for name, call := range map[string]*consent.Call{
			"nil":             nil,
			"pending":         decidedCall(t, consent.DecisionPending),
			"grant, no proof": {UUID: newUUID(t), CallerPseudonym: pseudonym(t), StartedAt: Now, Decision: consent.DecisionGranted},
			"no start":        {UUID: newUUID(t), CallerPseudonym: pseudonym(t), Decision: consent.DecisionDeclined},
			"phone number":    {UUID: newUUID(t), CallerPseudonym: "+47 912 34 567", StartedAt: Now, Decision: consent.DecisionDeclined},
		} {
			err := s.StoreDecision(ctx, call)
			if consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("%s: err = %v, want EINVALID", name, err)
			} else if strings.Contains(err.Error(), "912") {
				t.Errorf("%s: error echoes the number: %v", name, err)
			}
		}
	})
}

// testStoreGrant: the grant, its proof and the pending recording are stored in one write, or
// nothing is.
func (c *contract) testStoreGrant(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		s := c.store(t)
		call := decidedCall(t, consent.DecisionGranted)
		rec := newRecording(call)
		if err := s.StoreGrant(ctx, call, rec); err != nil {
			t.Fatal(err)
		}
		got := mustFindCall(t, s, call.UUID)
		if got.Decision != consent.DecisionGranted || *got.Proof != *call.Proof || got.Recording == nil ||
			got.Recording.State != consent.RecordingPending || got.Recording.Path != rec.Path {
			t.Errorf("stored %+v, recording %+v", got, got.Recording)
		}
	})

	t.Run("ErrNothingStored", func(t *testing.T) {
		s := c.store(t)
		declined := decidedCall(t, consent.DecisionDeclined)
		wantCode(t, s.StoreGrant(ctx, declined, newRecording(declined)), consent.EINVALID)
		call := decidedCall(t, consent.DecisionGranted)
		wantCode(t, s.StoreGrant(ctx, call, &consent.Recording{CallUUID: call.UUID, Path: "relative.wav"}), consent.EINVALID)
		// A duplicate refused by the store (not before it): the call's insert is undone too.
		old, oldRec := mustGrant(t, s, Now)
		dup := decidedCall(t, consent.DecisionGranted)
		rec := newRecording(dup)
		rec.Path = oldRec.Path
		wantCode(t, s.StoreGrant(ctx, dup, rec), consent.ECONFLICT)
		for _, id := range []string{declined.UUID, call.UUID, dup.UUID} {
			if _, err := s.FindCall(ctx, id); consent.ErrorCode(err) != consent.ENOTFOUND {
				t.Errorf("a refused grant left a row: %v", err)
			}
		}
		if got := mustFindCall(t, s, old.UUID); got.Recording.State != consent.RecordingPending {
			t.Errorf("the other call's recording: %+v", got.Recording)
		}
	})
}

// testFinishCall: the end and the recording's final state in one write; a withdrawn recording
// is left deleting.
func (c *contract) testFinishCall(t *testing.T) {
	ctx := context.Background()
	end := Now.Add(5 * time.Minute)
	t.Run("NoRecording", func(t *testing.T) {
		s := c.store(t)
		call := decidedCall(t, consent.DecisionDeclined)
		if err := s.StoreDecision(ctx, call); err != nil {
			t.Fatal(err)
		}
		if st, err := s.FinishCall(ctx, call.UUID, end, nil); err != nil || st != "" {
			t.Fatalf("FinishCall: %q, %v", st, err)
		}
		if _, err := s.FinishCall(ctx, call.UUID, end.Add(time.Hour), nil); err != nil {
			t.Fatal(err)
		}
		if got := mustFindCall(t, s, call.UUID); !got.EndedAt.Equal(end) {
			t.Errorf("ended at %v, want the first end %v", got.EndedAt, end)
		}
	})

	for _, tt := range []struct {
		name       string
		from, want consent.RecordingState
		end        consent.RecordingEnd
	}{
		{"PendingToComplete", consent.RecordingPending, consent.RecordingComplete,
			consent.RecordingEnd{State: consent.RecordingComplete, RecordingUpdate: consent.RecordingUpdate{EndedAt: end, DurationMS: 4200, Bytes: 134444}}},
		{"RecordingToComplete", consent.RecordingRecording, consent.RecordingComplete,
			consent.RecordingEnd{State: consent.RecordingComplete, RecordingUpdate: consent.RecordingUpdate{EndedAt: end, DurationMS: 4200, Bytes: 134444}}},
		{"PendingToFailed", consent.RecordingPending, consent.RecordingFailed,
			consent.RecordingEnd{State: consent.RecordingFailed, RecordingUpdate: consent.RecordingUpdate{EndedAt: end}}},
		{"WithdrawnStaysDeleting", consent.RecordingDeleting, consent.RecordingDeleting,
			consent.RecordingEnd{State: consent.RecordingComplete, RecordingUpdate: consent.RecordingUpdate{EndedAt: end, DurationMS: 1}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := c.store(t)
			call := c.recordingIn(t, s, tt.from)
			st, err := s.FinishCall(ctx, call.UUID, end, &tt.end)
			if err != nil || st != tt.want {
				t.Fatalf("FinishCall: %q, %v; want %q", st, err, tt.want)
			}
			got := mustFindCall(t, s, call.UUID)
			if !got.EndedAt.Equal(end) || got.Recording.State != tt.want {
				t.Fatalf("call ended %v, recording %+v", got.EndedAt, got.Recording)
			}
			if tt.want == tt.end.State && (!got.Recording.EndedAt.Equal(end) || got.Recording.DurationMS != tt.end.DurationMS || got.Recording.Bytes != tt.end.Bytes) {
				t.Errorf("recording %+v, want the fields of %+v", got.Recording, tt.end)
			}
		})
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		s := c.store(t)
		call := c.recordingIn(t, s, consent.RecordingRecording)
		for _, e := range []consent.RecordingEnd{{State: consent.RecordingRecording}, {State: consent.RecordingDeleted}, {State: consent.RecordingComplete, RecordingUpdate: consent.RecordingUpdate{Bytes: -1}}} {
			_, err := s.FinishCall(ctx, call.UUID, end, &e)
			wantCode(t, err, consent.EINVALID)
		}
		if got := mustFindCall(t, s, call.UUID); !got.EndedAt.IsZero() || got.Recording.State != consent.RecordingRecording {
			t.Errorf("a refused finish changed the call: %+v, %+v", got, got.Recording)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := c.store(t)
		_, err := s.FinishCall(ctx, newUUID(t), end, nil)
		wantCode(t, err, consent.ENOTFOUND)
		call := decidedCall(t, consent.DecisionDeclined)
		if err := s.StoreDecision(ctx, call); err != nil {
			t.Fatal(err)
		}
		_, err = s.FinishCall(ctx, call.UUID, end, &consent.RecordingEnd{State: consent.RecordingFailed})
		wantCode(t, err, consent.ENOTFOUND)
		if got := mustFindCall(t, s, call.UUID); !got.EndedAt.IsZero() {
			t.Errorf("a refused finish stamped the end: %v", got.EndedAt)
		}
	})
}
