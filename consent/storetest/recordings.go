package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

func (c *contract) testGrant(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		s := c.store(t)
		call, r := mustGrant(t, s, Now)
		if r.State != consent.RecordingPending {
			t.Fatalf("recording state = %s", r.State)
		}
		got := mustFindCall(t, s, call.UUID)
		if got.Decision != consent.DecisionGranted || got.Proof == nil || !reflect.DeepEqual(got.Recording, r) {
			t.Fatalf("call %+v, recording %+v, want granted with %+v", got, got.Recording, r)
		}
	})

	// The grant and its recording row are one transaction: a row that cannot be stored takes
	// the grant with it, so the call stays undecided and can be decided "error" instead.
	t.Run("ErrRecordingRollsBackGrant", func(t *testing.T) {
		s := c.store(t)
		_, taken := mustGrant(t, s, Now)
		call := mustCreateCall(t, s, pseudonym(t), Now)
		err := s.Grant(ctx, call.UUID, grantProof(Now), &consent.Recording{CallUUID: call.UUID, Path: taken.Path, StartedAt: Now})
		wantCode(t, err, consent.ECONFLICT)
		if got := mustFindCall(t, s, call.UUID); got.Decision != consent.DecisionPending || got.Recording != nil {
			t.Fatalf("after a failed grant: decision %s, recording %+v", got.Decision, got.Recording)
		}
		if err := s.DecideCall(ctx, call.UUID, consent.DecisionError, nil); err != nil {
			t.Fatal(err)
		}
	})

	// A withdrawal stored while the caller was still choosing (e.g. by a CLI that could not
	// reach the daemon) forbids the recording, and with it the grant (R-WITHDRAW-1).
	t.Run("ErrWithdrawn", func(t *testing.T) {
		s := c.store(t)
		call := mustCreateCall(t, s, pseudonym(t), Now)
		if _, err := s.Withdraw(ctx, consent.Withdrawal{CallUUID: call.UUID, At: Now, Reason: "ticket 1"}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.Grant(ctx, call.UUID, grantProof(Now), newRecording(call)), consent.ECONFLICT)
		if got := mustFindCall(t, s, call.UUID); got.Decision != consent.DecisionPending || got.Recording != nil {
			t.Fatalf("after a refused grant: decision %s, recording %+v", got.Decision, got.Recording)
		}
	})

	t.Run("ErrDecided", func(t *testing.T) {
		s := c.store(t)
		call := mustCreateCall(t, s, pseudonym(t), Now)
		if err := s.DecideCall(ctx, call.UUID, consent.DecisionDeclined, grantProof(Now)); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.Grant(ctx, call.UUID, grantProof(Now), newRecording(call)), consent.EINVALID)
		if got := mustFindCall(t, s, call.UUID); got.Decision != consent.DecisionDeclined || got.Recording != nil {
			t.Fatalf("a declined call became %s with recording %+v", got.Decision, got.Recording)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		call := &consent.Call{UUID: newUUID(t), StartedAt: Now}
		wantCode(t, c.store(t).Grant(ctx, call.UUID, grantProof(Now), newRecording(call)), consent.ENOTFOUND)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := c.store(t)
		call := mustCreateCall(t, s, pseudonym(t), Now)
		other := mustCreateCall(t, s, pseudonym(t), Now)
		for name, tt := range map[string]struct {
			proof *consent.Proof
			rec   *consent.Recording
		}{
			"no proof":      {nil, newRecording(call)},
			"no recording":  {grantProof(Now), nil},
			"other call":    {grantProof(Now), newRecording(other)},
			"relative path": {grantProof(Now), &consent.Recording{CallUUID: call.UUID, Path: "rec/x.wav", StartedAt: Now}},
			"not pending":   {grantProof(Now), &consent.Recording{CallUUID: call.UUID, Path: "/rec/x.wav", StartedAt: Now, State: consent.RecordingComplete}},
			"negative":      {grantProof(Now), &consent.Recording{CallUUID: call.UUID, Path: "/rec/x.wav", StartedAt: Now, Bytes: -1}},
		} {
			if err := s.Grant(ctx, call.UUID, tt.proof, tt.rec); consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("%s: err = %v, want EINVALID", name, err)
			}
		}
		if got := mustFindCall(t, s, call.UUID); got.Decision != consent.DecisionPending || got.Recording != nil {
			t.Fatalf("refused grants left decision %s, recording %+v", got.Decision, got.Recording)
		}
	})
}

// testRecordingTransitions drives every pair of recording states a consumer of these
// interfaces can reach through the store. Deleted is never reached by UpdateRecording: it needs
// its tombstone, which only the retention sweeper writes.
func (c *contract) testRecordingTransitions(t *testing.T) {
	ctx := context.Background()
	s := c.store(t)
	for _, from := range consent.RecordingStates {
		if from == consent.RecordingDeleted {
			continue
		}
		for _, to := range consent.RecordingStates {
			call := c.recordingIn(t, s, from)
			err := s.UpdateRecording(ctx, call.UUID, to, consent.RecordingUpdate{})
			want := from
			if to != consent.RecordingDeleted && consent.CheckRecordingTransition(from, to) == nil {
				if err != nil {
					t.Errorf("%s -> %s: %v", from, to, err)
				}
				want = to
			} else if consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("%s -> %s: err = %v, want EINVALID", from, to, err)
			}
			if got := mustFindCall(t, s, call.UUID).Recording.State; got != want {
				t.Errorf("%s -> %s: stored state %s, want %s", from, to, got, want)
			}
		}
	}

	t.Run("Fields", func(t *testing.T) {
		call := c.recordingIn(t, s, consent.RecordingRecording)
		end := Now.Add(3 * time.Minute)
		if err := s.UpdateRecording(ctx, call.UUID, consent.RecordingComplete, consent.RecordingUpdate{EndedAt: end, DurationMS: 180000, Bytes: 5760044}); err != nil {
			t.Fatal(err)
		}
		r := mustFindCall(t, s, call.UUID).Recording
		if !r.EndedAt.Equal(end) || r.DurationMS != 180000 || r.Bytes != 5760044 {
			t.Fatalf("got %+v", r)
		}
		// Zero fields leave the values alone.
		if err := s.UpdateRecording(ctx, call.UUID, consent.RecordingDeleting, consent.RecordingUpdate{}); err != nil {
			t.Fatal(err)
		}
		if r2 := mustFindCall(t, s, call.UUID).Recording; r2.Bytes != r.Bytes || !r2.EndedAt.Equal(end) {
			t.Fatalf("zero update changed fields: %+v", r2)
		}
	})

	t.Run("ErrNegative", func(t *testing.T) {
		call := c.recordingIn(t, s, consent.RecordingRecording)
		wantCode(t, s.UpdateRecording(ctx, call.UUID, consent.RecordingComplete, consent.RecordingUpdate{Bytes: -1}), consent.EINVALID)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		call := mustCreateCall(t, s, pseudonym(t), Now)
		if err := s.DecideCall(ctx, call.UUID, consent.DecisionGranted, grantProof(Now)); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.UpdateRecording(ctx, call.UUID, consent.RecordingRecording, consent.RecordingUpdate{}), consent.ENOTFOUND)
	})
}

func (c *contract) testFindRecordings(t *testing.T) {
	ctx := context.Background()
	s := c.store(t)
	c1 := c.recordingIn(t, s, consent.RecordingComplete)
	c2 := c.recordingIn(t, s, consent.RecordingFailed)
	c3 := c.recordingIn(t, s, consent.RecordingDeleting)
	started := func(call *consent.Call) time.Time { return mustFindCall(t, s, call.UUID).Recording.StartedAt }
	// recordingIn makes them one minute apart, so this is also their start order.
	for name, tt := range map[string]struct {
		filter consent.RecordingFilter
		want   []*consent.Call
	}{
		"All":                   {consent.RecordingFilter{}, []*consent.Call{c1, c2, c3}},
		"CallUUID":              {consent.RecordingFilter{CallUUID: c2.UUID}, []*consent.Call{c2}},
		"Pseudonym":             {consent.RecordingFilter{CallerPseudonym: c3.CallerPseudonym}, []*consent.Call{c3}},
		"States":                {consent.RecordingFilter{States: []consent.RecordingState{consent.RecordingComplete, consent.RecordingFailed}}, []*consent.Call{c1, c2}},
		"StartedBefore":         {consent.RecordingFilter{StartedBefore: started(c2).Add(30 * time.Second)}, []*consent.Call{c1, c2}},
		"StartedBeforeIsStrict": {consent.RecordingFilter{StartedBefore: started(c2)}, []*consent.Call{c1}},
		"Limit":                 {consent.RecordingFilter{Limit: 2}, []*consent.Call{c1, c2}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := s.FindRecordings(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			} else if len(got) != len(tt.want) {
				t.Fatalf("got %d recordings, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i].CallUUID != tt.want[i].UUID {
					t.Fatalf("recording %d of call %s, want %s", i, got[i].CallUUID, tt.want[i].UUID)
				}
			}
		})
	}

	t.Run("ErrUnknownState", func(t *testing.T) {
		_, err := s.FindRecordings(ctx, consent.RecordingFilter{States: []consent.RecordingState{"lost"}})
		wantCode(t, err, consent.EINVALID)
	})
}
