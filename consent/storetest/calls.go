package storetest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

func (c *contract) testCreateCall(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		s := c.store(t)
		call := mustCreateCall(t, s, pseudonym(t), Now)
		if call.Decision != consent.DecisionPending {
			t.Fatalf("decision = %q", call.Decision)
		}
		if got := mustFindCall(t, s, call.UUID); !reflect.DeepEqual(got, call) {
			t.Fatalf("got %+v, want %+v", got, call)
		}
	})

	t.Run("Anonymous", func(t *testing.T) {
		mustCreateCall(t, c.store(t), consent.AnonymousPseudonym, Now)
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		s := c.store(t)
		dup := *mustCreateCall(t, s, pseudonym(t), Now)
		wantCode(t, s.CreateCall(ctx, &dup), consent.ECONFLICT)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := c.store(t)
		for name, call := range map[string]*consent.Call{
			"nil":      nil,
			"no uuid":  {CallerPseudonym: pseudonym(t), StartedAt: Now},
			"bad uuid": {UUID: "../../etc/passwd", CallerPseudonym: pseudonym(t), StartedAt: Now},
			"no start": {UUID: newUUID(t), CallerPseudonym: pseudonym(t)},
			"decided":  {UUID: newUUID(t), CallerPseudonym: pseudonym(t), StartedAt: Now, Decision: consent.DecisionGranted},
		} {
			if err := s.CreateCall(ctx, call); consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("%s: err = %v, want EINVALID", name, err)
			}
		}
	})

	// ErrPhoneNumber: a raw number where a pseudonym belongs is refused, and not echoed
	// (R-PSEUDO-1).
	t.Run("ErrPhoneNumber", func(t *testing.T) {
		s := c.store(t)
		err := s.CreateCall(ctx, &consent.Call{UUID: newUUID(t), CallerPseudonym: "+47 912 34 567", StartedAt: Now})
		wantCode(t, err, consent.EINVALID)
		if strings.Contains(err.Error(), "912") {
			t.Fatalf("error echoes the number: %v", err)
		}
	})
}

// testDecideCall drives every pair of decisions through the store: only pending → final is
// legal, and a refused change leaves the stored decision as it was.
func (c *contract) testDecideCall(t *testing.T) {
	ctx := context.Background()
	s := c.store(t)
	for _, from := range consent.Decisions {
		for _, to := range consent.Decisions {
			call := mustCreateCall(t, s, pseudonym(t), Now)
			if from != consent.DecisionPending {
				if err := s.DecideCall(ctx, call.UUID, from, grantProof(Now)); err != nil {
					t.Fatal(err)
				}
			}
			err := s.DecideCall(ctx, call.UUID, to, grantProof(Now.Add(time.Second)))
			legal := consent.CheckDecisionTransition(from, to) == nil
			if legal && err != nil {
				t.Errorf("%s -> %s: %v", from, to, err)
			} else if !legal {
				if consent.ErrorCode(err) != consent.EINVALID {
					t.Errorf("%s -> %s: err = %v, want EINVALID", from, to, err)
				}
				if got := mustFindCall(t, s, call.UUID); got.Decision != from {
					t.Errorf("%s -> %s refused but stored decision is %s", from, to, got.Decision)
				}
			}
		}
	}

	t.Run("NoProof", func(t *testing.T) {
		call := mustCreateCall(t, s, pseudonym(t), Now)
		if err := s.DecideCall(ctx, call.UUID, consent.DecisionAbandoned, nil); err != nil {
			t.Fatal(err)
		}
		if got := mustFindCall(t, s, call.UUID); got.Proof != nil || got.Decision != consent.DecisionAbandoned {
			t.Fatalf("got decision %s proof %+v", got.Decision, got.Proof)
		}
	})

	t.Run("ProofTimeDefaultsToNow", func(t *testing.T) {
		call := mustCreateCall(t, s, pseudonym(t), Now)
		if err := s.DecideCall(ctx, call.UUID, consent.DecisionDeclined, grantProof(time.Time{})); err != nil {
			t.Fatal(err)
		}
		if got := mustFindCall(t, s, call.UUID); !got.Proof.DecidedAt.Equal(Now) {
			t.Fatalf("decided at %v, want the store's time %v", got.Proof.DecidedAt, Now)
		}
	})

	t.Run("ProofRoundTrip", func(t *testing.T) {
		call := mustCreateCall(t, s, pseudonym(t), Now)
		p := grantProof(Now)
		if err := s.DecideCall(ctx, call.UUID, consent.DecisionGranted, p); err != nil {
			t.Fatal(err)
		}
		if got := mustFindCall(t, s, call.UUID); got.Proof == nil || *got.Proof != *p {
			t.Fatalf("stored proof %+v, want %+v", got.Proof, p)
		}
		bad := grantProof(Now)
		bad.HeardMS = -1
		wantCode(t, s.DecideCall(ctx, mustCreateCall(t, s, pseudonym(t), Now).UUID, consent.DecisionGranted, bad), consent.EINVALID)
	})

	t.Run("ErrGrantWithoutProof", func(t *testing.T) {
		call := mustCreateCall(t, s, pseudonym(t), Now)
		wantCode(t, s.DecideCall(ctx, call.UUID, consent.DecisionGranted, nil), consent.EINVALID)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		wantCode(t, s.DecideCall(ctx, newUUID(t), consent.DecisionGranted, grantProof(Now)), consent.ENOTFOUND)
	})

	t.Run("ErrUnknownRecordingState", func(t *testing.T) {
		_, err := s.FindCalls(ctx, consent.CallFilter{Recording: "lost"})
		wantCode(t, err, consent.EINVALID)
	})

	t.Run("ErrUnknownDecision", func(t *testing.T) {
		call := mustCreateCall(t, s, pseudonym(t), Now)
		wantCode(t, s.DecideCall(ctx, call.UUID, "maybe", grantProof(Now)), consent.EINVALID)
	})
}

func (c *contract) testEndCall(t *testing.T) {
	ctx := context.Background()
	t.Run("FirstEndWins", func(t *testing.T) {
		s := c.store(t)
		call := mustCreateCall(t, s, pseudonym(t), Now)
		first := Now.Add(time.Minute)
		if err := s.EndCall(ctx, call.UUID, first); err != nil {
			t.Fatal(err)
		}
		if err := s.EndCall(ctx, call.UUID, first.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := mustFindCall(t, s, call.UUID); !got.EndedAt.Equal(first) {
			t.Fatalf("ended at %v, want %v", got.EndedAt, first)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		wantCode(t, c.store(t).EndCall(ctx, newUUID(t), Now), consent.ENOTFOUND)
	})
}

func (c *contract) testFindCalls(t *testing.T) {
	ctx := context.Background()
	s := c.store(t)
	alice, bob := pseudonym(t), pseudonym(t)
	day := 24 * time.Hour
	c1 := mustCreateCall(t, s, alice, Now)            // oldest, stays pending
	c2, rec := mustGrant(t, s, Now.Add(day))          // granted, with a recording
	c3 := mustCreateCall(t, s, alice, Now.Add(2*day)) // declined
	c4 := mustCreateCall(t, s, bob, Now.Add(3*day))   // newest, pending
	if err := s.DecideCall(ctx, c3.UUID, consent.DecisionDeclined, grantProof(Now)); err != nil {
		t.Fatal(err)
	}
	if err := s.EndCall(ctx, c3.UUID, Now.Add(2*day+time.Minute)); err != nil {
		t.Fatal(err)
	}

	for name, tt := range map[string]struct {
		filter consent.CallFilter
		want   []*consent.Call
	}{
		"All":            {consent.CallFilter{}, []*consent.Call{c4, c3, c2, c1}},
		"UUID":           {consent.CallFilter{UUID: c2.UUID}, []*consent.Call{c2}},
		"Pseudonym":      {consent.CallFilter{CallerPseudonym: alice}, []*consent.Call{c3, c1}},
		"Decision":       {consent.CallFilter{Decision: consent.DecisionPending}, []*consent.Call{c4, c1}},
		"Since":          {consent.CallFilter{Since: Now.Add(day)}, []*consent.Call{c4, c3, c2}},
		"Until":          {consent.CallFilter{Until: Now.Add(day)}, []*consent.Call{c1}},
		"SinceUntil":     {consent.CallFilter{Since: Now.Add(day), Until: Now.Add(3 * day)}, []*consent.Call{c3, c2}},
		"Limit":          {consent.CallFilter{Limit: 2}, []*consent.Call{c4, c3}},
		"LimitOffset":    {consent.CallFilter{Limit: 2, Offset: 1}, []*consent.Call{c3, c2}},
		"OffsetOnly":     {consent.CallFilter{Offset: 3}, []*consent.Call{c1}},
		"PseudonymNone":  {consent.CallFilter{CallerPseudonym: pseudonym(t)}, []*consent.Call{}},
		"Unended":        {consent.CallFilter{Unended: true}, []*consent.Call{c4, c2, c1}},
		"UnendedLimit":   {consent.CallFilter{Unended: true, Limit: 1, Offset: 1}, []*consent.Call{c2}},
		"Recording":      {consent.CallFilter{Recording: rec.State}, []*consent.Call{c2}},
		"RecordingNone":  {consent.CallFilter{Recording: consent.RecordingNone}, []*consent.Call{c4, c3, c1}},
		"RecordingOther": {consent.CallFilter{Recording: consent.RecordingDeleted}, []*consent.Call{}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := s.FindCalls(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d calls, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i].UUID != tt.want[i].UUID {
					t.Fatalf("call %d = %s, want %s", i, got[i].UUID, tt.want[i].UUID)
				}
			}
		})
	}

	t.Run("WithRecording", func(t *testing.T) {
		got, err := s.FindCalls(ctx, consent.CallFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range got {
			if call.UUID == c2.UUID {
				if !reflect.DeepEqual(call.Recording, rec) {
					t.Fatalf("recording %+v, want %+v", call.Recording, rec)
				}
			} else if call.Recording != nil {
				t.Fatalf("call without recording got %+v", call.Recording)
			}
		}
	})

	t.Run("ErrUnknownRecordingState", func(t *testing.T) {
		_, err := s.FindCalls(ctx, consent.CallFilter{Recording: "lost"})
		wantCode(t, err, consent.EINVALID)
	})

	t.Run("ErrUnknownDecision", func(t *testing.T) {
		_, err := s.FindCalls(ctx, consent.CallFilter{Decision: "maybe"})
		wantCode(t, err, consent.EINVALID)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.FindCall(ctx, newUUID(t))
		wantCode(t, err, consent.ENOTFOUND)
	})
}
