package sqlite_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/recordings"
)

func TestDB_CreateRecording(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		r := MustRecording(t, db, c)
		if r.State != consent.RecordingPending {
			t.Fatalf("state = %s", r.State)
		}
		got, err := db.FindCall(ctx, c.UUID)
		if err != nil {
			t.Fatal(err)
		} else if !reflect.DeepEqual(got.Recording, r) {
			t.Fatalf("got %+v, want %+v", got.Recording, r)
		}
	})

	// Without a stored grant there is no recording row (R-CONSENT-3).
	for _, d := range consent.Decisions {
		if d == consent.DecisionGranted {
			continue
		}
		t.Run("Err"+string(d), func(t *testing.T) {
			db := MustOpenDB(t)
			c := MustCreateCall(t, db, pseudonym(t), now)
			if d != consent.DecisionPending {
				if err := db.DecideCall(ctx, c.UUID, d, grantProof(now)); err != nil {
					t.Fatal(err)
				}
			}
			wantCode(t, db.CreateRecording(ctx, newRecording(c)), consent.ECONFLICT)
		})
	}

	t.Run("ErrWithdrawn", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		if _, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.CreateRecording(ctx, newRecording(c)), consent.ECONFLICT)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		db := MustOpenDB(t)
		c := &consent.Call{UUID: newUUID(t), StartedAt: now}
		wantCode(t, db.CreateRecording(ctx, newRecording(c)), consent.ENOTFOUND)
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		r := MustRecording(t, db, c)
		wantCode(t, db.CreateRecording(ctx, &consent.Recording{CallUUID: c.UUID, Path: r.Path + ".2", StartedAt: now}), consent.ECONFLICT)
		other := MustGrantedCall(t, db, now)
		wantCode(t, db.CreateRecording(ctx, &consent.Recording{CallUUID: other.UUID, Path: r.Path, StartedAt: now}), consent.ECONFLICT)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		for name, r := range map[string]*consent.Recording{
			"nil":           nil,
			"relative path": {CallUUID: c.UUID, Path: "rec/x.wav", StartedAt: now},
			"not pending":   {CallUUID: c.UUID, Path: "/rec/x.wav", StartedAt: now, State: consent.RecordingComplete},
			"negative":      {CallUUID: c.UUID, Path: "/rec/x.wav", StartedAt: now, Bytes: -1},
		} {
			if err := db.CreateRecording(ctx, r); consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("%s: err = %v, want EINVALID", name, err)
			}
		}
	})
}

// TestDB_RecordingTransitions drives every pair of recording states through the store. The
// move to deleted goes through FinishDeletion, the only way to reach it.
func TestDB_RecordingTransitions(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	for _, from := range consent.RecordingStates {
		for _, to := range consent.RecordingStates {
			c := mustRecordingIn(t, db, from)
			var err error
			if to == consent.RecordingDeleted {
				err = db.FinishDeletion(ctx, consent.Tombstone{CallUUID: c.UUID, Reason: consent.ReasonRetention})
			} else {
				err = db.UpdateRecording(ctx, c.UUID, to, consent.RecordingUpdate{})
			}
			want := from
			if consent.CheckRecordingTransition(from, to) == nil {
				if err != nil {
					t.Errorf("%s -> %s: %v", from, to, err)
				}
				want = to
			} else if consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("%s -> %s: err = %v, want EINVALID", from, to, err)
			}
			if got := mustFindCall(t, db, c.UUID).Recording.State; got != want {
				t.Errorf("%s -> %s: stored state %s, want %s", from, to, got, want)
			}
		}
	}

	t.Run("Fields", func(t *testing.T) {
		c := mustRecordingIn(t, db, consent.RecordingRecording)
		end := now.Add(3 * time.Minute)
		if err := db.UpdateRecording(ctx, c.UUID, consent.RecordingComplete, consent.RecordingUpdate{EndedAt: end, DurationMS: 180000, Bytes: 5760044}); err != nil {
			t.Fatal(err)
		}
		r := mustFindCall(t, db, c.UUID).Recording
		if !r.EndedAt.Equal(end) || r.DurationMS != 180000 || r.Bytes != 5760044 {
			t.Fatalf("got %+v", r)
		}
		// Zero fields leave the values alone.
		if err := db.UpdateRecording(ctx, c.UUID, consent.RecordingDeleting, consent.RecordingUpdate{}); err != nil {
			t.Fatal(err)
		}
		if r2 := mustFindCall(t, db, c.UUID).Recording; r2.Bytes != r.Bytes || !r2.EndedAt.Equal(end) {
			t.Fatalf("zero update changed fields: %+v", r2)
		}
	})

	t.Run("ErrDeletedWithoutTombstone", func(t *testing.T) {
		c := mustRecordingIn(t, db, consent.RecordingDeleting)
		wantCode(t, db.UpdateRecording(ctx, c.UUID, consent.RecordingDeleted, consent.RecordingUpdate{}), consent.EINVALID)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		c := MustGrantedCall(t, db, now)
		wantCode(t, db.UpdateRecording(ctx, c.UUID, consent.RecordingRecording, consent.RecordingUpdate{}), consent.ENOTFOUND)
	})
}

func TestDB_FindRecordings(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	c1 := mustRecordingIn(t, db, consent.RecordingComplete)
	c2 := mustRecordingIn(t, db, consent.RecordingFailed)
	c3 := mustRecordingIn(t, db, consent.RecordingDeleting)
	// mustRecordingIn creates them one minute apart, so this is also their start order.
	for name, tt := range map[string]struct {
		filter consent.RecordingFilter
		want   []*consent.Call
	}{
		"All":           {consent.RecordingFilter{}, []*consent.Call{c1, c2, c3}},
		"CallUUID":      {consent.RecordingFilter{CallUUID: c2.UUID}, []*consent.Call{c2}},
		"Pseudonym":     {consent.RecordingFilter{CallerPseudonym: c3.CallerPseudonym}, []*consent.Call{c3}},
		"States":        {consent.RecordingFilter{States: []consent.RecordingState{consent.RecordingComplete, consent.RecordingFailed}}, []*consent.Call{c1, c2}},
		"StartedBefore": {consent.RecordingFilter{StartedBefore: c2.StartedAt.Add(30 * time.Second)}, []*consent.Call{c1}},
		"Limit":         {consent.RecordingFilter{Limit: 2}, []*consent.Call{c1, c2}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := db.FindRecordings(ctx, tt.filter)
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
		_, err := db.FindRecordings(ctx, consent.RecordingFilter{States: []consent.RecordingState{"lost"}})
		wantCode(t, err, consent.EINVALID)
	})
}

// callSeq spaces the calls of mustRecordingIn one minute apart, in creation order.
var callSeq time.Duration

// mustRecordingIn returns a granted call whose recording was brought to state by legal steps.
func mustRecordingIn(tb testing.TB, db *sqlite.DB, state consent.RecordingState) *consent.Call {
	tb.Helper()
	ctx := context.Background()
	callSeq += time.Minute
	c := MustGrantedCall(tb, db, now.Add(callSeq))
	MustRecording(tb, db, c)
	path := map[consent.RecordingState][]consent.RecordingState{
		consent.RecordingPending:   {},
		consent.RecordingRecording: {consent.RecordingRecording},
		consent.RecordingComplete:  {consent.RecordingRecording, consent.RecordingComplete},
		consent.RecordingFailed:    {consent.RecordingFailed},
		consent.RecordingDeleting:  {consent.RecordingDeleting},
		consent.RecordingDeleted:   {consent.RecordingDeleting},
	}[state]
	for _, s := range path {
		if err := db.UpdateRecording(ctx, c.UUID, s, consent.RecordingUpdate{}); err != nil {
			tb.Fatal(err)
		}
	}
	if state == consent.RecordingDeleted {
		if err := db.FinishDeletion(ctx, consent.Tombstone{CallUUID: c.UUID, Reason: consent.ReasonRetention}); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

func mustFindCall(tb testing.TB, db *sqlite.DB, callUUID string) *consent.Call {
	tb.Helper()
	c, err := db.FindCall(context.Background(), callUUID)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func newRecording(c *consent.Call) *consent.Recording {
	return &consent.Recording{CallUUID: c.UUID, Path: recordings.Path("/rec", c.UUID, c.StartedAt), StartedAt: c.StartedAt}
}
