package sqlite_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

func TestDB_CreateCall(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustCreateCall(t, db, pseudonym(t), now)
		if c.Decision != consent.DecisionPending {
			t.Fatalf("decision = %q", c.Decision)
		}
		got, err := db.FindCall(ctx, c.UUID)
		if err != nil {
			t.Fatal(err)
		} else if !reflect.DeepEqual(got, c) {
			t.Fatalf("got %+v, want %+v", got, c)
		}
	})

	t.Run("Anonymous", func(t *testing.T) {
		MustCreateCall(t, MustOpenDB(t), consent.AnonymousPseudonym, now)
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustCreateCall(t, db, pseudonym(t), now)
		dup := *c
		wantCode(t, db.CreateCall(ctx, &dup), consent.ECONFLICT)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		db := MustOpenDB(t)
		for name, c := range map[string]*consent.Call{
			"nil":      nil,
			"no uuid":  {CallerPseudonym: pseudonym(t), StartedAt: now},
			"bad uuid": {UUID: "../../etc/passwd", CallerPseudonym: pseudonym(t), StartedAt: now},
			"no start": {UUID: newUUID(t), CallerPseudonym: pseudonym(t)},
			"decided":  {UUID: newUUID(t), CallerPseudonym: pseudonym(t), StartedAt: now, Decision: consent.DecisionGranted},
		} {
			if err := db.CreateCall(ctx, c); consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("%s: err = %v, want EINVALID", name, err)
			}
		}
	})

	// ErrPhoneNumber: a raw number where a pseudonym belongs is refused, and not echoed.
	t.Run("ErrPhoneNumber", func(t *testing.T) {
		db := MustOpenDB(t)
		err := db.CreateCall(ctx, &consent.Call{UUID: newUUID(t), CallerPseudonym: "+47 912 34 567", StartedAt: now})
		wantCode(t, err, consent.EINVALID)
		if msg := err.Error(); containsAny(msg, "912") {
			t.Fatalf("error echoes the number: %v", err)
		}
	})
}

// TestDB_DecideCall drives every pair of decisions through the store: only pending → final is
// legal, and a refused change leaves the stored decision as it was.
func TestDB_DecideCall(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	for _, from := range consent.Decisions {
		for _, to := range consent.Decisions {
			c := MustCreateCall(t, db, pseudonym(t), now)
			if from != consent.DecisionPending {
				if err := db.DecideCall(ctx, c.UUID, from, grantProof(now)); err != nil {
					t.Fatal(err)
				}
			}
			err := db.DecideCall(ctx, c.UUID, to, grantProof(now.Add(time.Second)))
			legal := consent.CheckDecisionTransition(from, to) == nil
			if legal && err != nil {
				t.Errorf("%s -> %s: %v", from, to, err)
			} else if !legal {
				if consent.ErrorCode(err) != consent.EINVALID {
					t.Errorf("%s -> %s: err = %v, want EINVALID", from, to, err)
				}
				if got, _ := db.FindCall(ctx, c.UUID); got.Decision != from {
					t.Errorf("%s -> %s refused but stored decision is %s", from, to, got.Decision)
				}
			}
		}
	}

	t.Run("NoProof", func(t *testing.T) {
		c := MustCreateCall(t, db, pseudonym(t), now)
		if err := db.DecideCall(ctx, c.UUID, consent.DecisionAbandoned, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.FindCall(ctx, c.UUID); got.Proof != nil || got.Decision != consent.DecisionAbandoned {
			t.Fatalf("got decision %s proof %+v", got.Decision, got.Proof)
		}
	})

	t.Run("ProofTimeDefaultsToNow", func(t *testing.T) {
		c := MustCreateCall(t, db, pseudonym(t), now)
		p := grantProof(time.Time{})
		if err := db.DecideCall(ctx, c.UUID, consent.DecisionDeclined, p); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.FindCall(ctx, c.UUID); !got.Proof.DecidedAt.Equal(now) {
			t.Fatalf("decided at %v, want %v", got.Proof.DecidedAt, now)
		}
	})

	t.Run("ProofRoundTrip", func(t *testing.T) {
		c := MustCreateCall(t, db, pseudonym(t), now)
		p := grantProof(now)
		if err := db.DecideCall(ctx, c.UUID, consent.DecisionGranted, p); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.FindCall(ctx, c.UUID); got.Proof == nil || *got.Proof != *p {
			t.Fatalf("stored proof %+v, want %+v", got.Proof, p)
		}
		bad := grantProof(now)
		bad.HeardMS = -1
		wantCode(t, db.DecideCall(ctx, MustCreateCall(t, db, pseudonym(t), now).UUID, consent.DecisionGranted, bad), consent.EINVALID)
	})

	t.Run("ErrGrantWithoutProof", func(t *testing.T) {
		c := MustCreateCall(t, db, pseudonym(t), now)
		wantCode(t, db.DecideCall(ctx, c.UUID, consent.DecisionGranted, nil), consent.EINVALID)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		wantCode(t, db.DecideCall(ctx, newUUID(t), consent.DecisionGranted, grantProof(now)), consent.ENOTFOUND)
	})

	t.Run("ErrUnknownDecision", func(t *testing.T) {
		c := MustCreateCall(t, db, pseudonym(t), now)
		wantCode(t, db.DecideCall(ctx, c.UUID, "maybe", grantProof(now)), consent.EINVALID)
	})
}

func TestDB_EndCall(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustCreateCall(t, db, pseudonym(t), now)
		first := now.Add(time.Minute)
		if err := db.EndCall(ctx, c.UUID, first); err != nil {
			t.Fatal(err)
		}
		// A second end keeps the first time.
		if err := db.EndCall(ctx, c.UUID, first.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.FindCall(ctx, c.UUID); !got.EndedAt.Equal(first) {
			t.Fatalf("ended at %v, want %v", got.EndedAt, first)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		wantCode(t, MustOpenDB(t).EndCall(ctx, newUUID(t), now), consent.ENOTFOUND)
	})
}

func TestDB_FindCalls(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	alice, bob := pseudonym(t), pseudonym(t)
	day := 24 * time.Hour
	c1 := MustCreateCall(t, db, alice, now)            // oldest, stays pending
	c2 := MustGrantedCall(t, db, now.Add(day))         // granted, with a recording
	c3 := MustCreateCall(t, db, alice, now.Add(2*day)) // declined
	c4 := MustCreateCall(t, db, bob, now.Add(3*day))   // newest, pending
	rec := MustRecording(t, db, c2)
	if err := db.DecideCall(ctx, c3.UUID, consent.DecisionDeclined, grantProof(now)); err != nil {
		t.Fatal(err)
	}
	if err := db.EndCall(ctx, c3.UUID, now.Add(2*day+time.Minute)); err != nil {
		t.Fatal(err)
	}

	for name, tt := range map[string]struct {
		filter consent.CallFilter
		want   []*consent.Call
	}{
		"All":           {consent.CallFilter{}, []*consent.Call{c4, c3, c2, c1}},
		"UUID":          {consent.CallFilter{UUID: c2.UUID}, []*consent.Call{c2}},
		"Pseudonym":     {consent.CallFilter{CallerPseudonym: alice}, []*consent.Call{c3, c1}},
		"Decision":      {consent.CallFilter{Decision: consent.DecisionPending}, []*consent.Call{c4, c1}},
		"Since":         {consent.CallFilter{Since: now.Add(day)}, []*consent.Call{c4, c3, c2}},
		"Until":         {consent.CallFilter{Until: now.Add(day)}, []*consent.Call{c1}},
		"SinceUntil":    {consent.CallFilter{Since: now.Add(day), Until: now.Add(3 * day)}, []*consent.Call{c3, c2}},
		"Limit":         {consent.CallFilter{Limit: 2}, []*consent.Call{c4, c3}},
		"LimitOffset":   {consent.CallFilter{Limit: 2, Offset: 1}, []*consent.Call{c3, c2}},
		"OffsetOnly":    {consent.CallFilter{Offset: 3}, []*consent.Call{c1}},
		"PseudonymNone": {consent.CallFilter{CallerPseudonym: pseudonym(t)}, []*consent.Call{}},
		"Unended":       {consent.CallFilter{Unended: true}, []*consent.Call{c4, c2, c1}},
		"UnendedLimit":  {consent.CallFilter{Unended: true, Limit: 1, Offset: 1}, []*consent.Call{c2}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := db.FindCalls(ctx, tt.filter)
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
		got, err := db.FindCalls(ctx, consent.CallFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got {
			if c.UUID == c2.UUID {
				if !reflect.DeepEqual(c.Recording, rec) {
					t.Fatalf("recording %+v, want %+v", c.Recording, rec)
				}
			} else if c.Recording != nil {
				t.Fatalf("call without recording got %+v", c.Recording)
			}
		}
	})

	t.Run("ErrUnknownDecision", func(t *testing.T) {
		_, err := db.FindCalls(ctx, consent.CallFilter{Decision: "maybe"})
		wantCode(t, err, consent.EINVALID)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.FindCall(ctx, newUUID(t))
		wantCode(t, err, consent.ENOTFOUND)
	})
}
