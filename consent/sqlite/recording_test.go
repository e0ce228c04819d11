package sqlite_test

import (
	"context"
	"testing"

	"github.com/callconsent/callconsent/consent"
)

// TestDB_Deleted: a recording reaches deleted only through the sweeper's two commits, with its
// tombstone, and nothing moves it on from there (the contract, consent/storetest, covers the
// other states, which its interfaces can reach).
func TestDB_Deleted(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	for _, from := range consent.RecordingStates {
		if from == consent.RecordingDeleted {
			continue // below
		}
		c := mustRecordingIn(t, db, from)
		err := db.UpdateRecording(ctx, c.UUID, consent.RecordingDeleted, consent.RecordingUpdate{})
		wantCode(t, err, consent.EINVALID)
		if got := mustFindCall(t, db, c.UUID).Recording.State; got != from {
			t.Errorf("%s -> deleted refused, but the state is %s", from, got)
		}
	}
	c := mustRecordingIn(t, db, consent.RecordingDeleted)
	for _, to := range consent.RecordingStates {
		if err := db.UpdateRecording(ctx, c.UUID, to, consent.RecordingUpdate{}); consent.ErrorCode(err) != consent.EINVALID {
			t.Errorf("deleted -> %s: err = %v, want EINVALID", to, err)
		}
	}
	if got := mustFindCall(t, db, c.UUID).Recording.State; got != consent.RecordingDeleted {
		t.Fatalf("state %s, want deleted", got)
	}
	ts := mustTombstones(t, db)
	if len(ts) != 1 || ts[0].CallUUID != c.UUID || ts[0].Reason != consent.ReasonRetention || !ts[0].DeletedAt.Equal(now) {
		t.Fatalf("tombstones %+v, want one of %s at %v", ts, c.UUID, now)
	}
}

// TestDB_WithdrawDeleted: withdrawing a call whose audio is gone stores the withdrawal and
// leaves the recording deleted.
func TestDB_WithdrawDeleted(t *testing.T) {
	db := MustOpenDB(t)
	c := mustRecordingIn(t, db, consent.RecordingDeleted)
	rec, err := db.Withdraw(context.Background(), consent.Withdrawal{CallUUID: c.UUID})
	if err != nil {
		t.Fatal(err)
	} else if rec.State != consent.RecordingDeleted {
		t.Fatalf("state %s, want deleted", rec.State)
	}
	if got := mustFindCall(t, db, c.UUID); !got.WithdrawnAt.Equal(now) {
		t.Fatalf("withdrawn at %v, want the transaction time %v", got.WithdrawnAt, now)
	}
}
