package sqlite_test

import (
	"context"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
)

func TestDB_Grant(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustCreateCall(t, db, pseudonym(t), now)
		r := &consent.Recording{CallUUID: c.UUID, Path: recordings.Path("/rec", c.UUID, now), StartedAt: now}
		if err := db.Grant(ctx, c.UUID, grantProof(now), r); err != nil {
			t.Fatal(err)
		}
		db = MustReopenDB(t, db) // durable: both survive a restart
		got, err := db.FindCall(ctx, c.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Decision != consent.DecisionGranted || got.Proof == nil || got.Recording == nil || got.Recording.State != consent.RecordingPending {
			t.Fatalf("call %+v, recording %+v", got, got.Recording)
		}
	})
	// The grant and its recording row are one transaction: a row that cannot be stored takes
	// the grant with it, so the call stays undecided and can be decided "error" instead.
	t.Run("ErrRecordingRollsBackGrant", func(t *testing.T) {
		db := MustOpenDB(t)
		a := MustGrantedCall(t, db, now)
		taken := MustRecording(t, db, a)
		c := MustCreateCall(t, db, pseudonym(t), now)
		err := db.Grant(ctx, c.UUID, grantProof(now), &consent.Recording{CallUUID: c.UUID, Path: taken.Path, StartedAt: now})
		wantCode(t, err, consent.ECONFLICT)
		got, _ := db.FindCall(ctx, c.UUID)
		if got.Decision != consent.DecisionPending || got.Recording != nil {
			t.Fatalf("after a failed grant: decision %s, recording %+v", got.Decision, got.Recording)
		}
		if err := db.DecideCall(ctx, c.UUID, consent.DecisionError, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrNoProof", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustCreateCall(t, db, pseudonym(t), now)
		err := db.Grant(ctx, c.UUID, nil, &consent.Recording{CallUUID: c.UUID, Path: "/rec/x.wav", StartedAt: now})
		wantCode(t, err, consent.EINVALID)
	})
	t.Run("ErrOtherCall", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustCreateCall(t, db, pseudonym(t), now)
		other := MustCreateCall(t, db, pseudonym(t), now)
		err := db.Grant(ctx, c.UUID, grantProof(now), &consent.Recording{CallUUID: other.UUID, Path: "/rec/x.wav", StartedAt: now})
		wantCode(t, err, consent.EINVALID)
	})
}
