package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// TestSchema_Triggers bypasses the store's Go checks with raw SQL to prove that the schema
// refuses the same things on its own, and that the refusals come out as consent errors.
func TestSchema_Triggers(t *testing.T) {
	ctx := context.Background()
	insertRecording := `INSERT INTO recordings (call_uuid, path, started_at) VALUES (?, ?, '2025-03-14T09:30:00.000000000Z')`

	t.Run("RecordingGranted", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		if err := sqlite.ExecRaw(db, insertRecording, c.UUID, "/rec/a.wav"); err != nil {
			t.Fatal(err)
		}
	})

	for _, d := range []consent.Decision{consent.DecisionPending, consent.DecisionDeclined, consent.DecisionNoInput} {
		t.Run("ErrRecording_"+string(d), func(t *testing.T) {
			db := MustOpenDB(t)
			c := MustCreateCall(t, db, pseudonym(t), now)
			if d != consent.DecisionPending {
				if err := db.DecideCall(ctx, c.UUID, d, grantProof(now)); err != nil {
					t.Fatal(err)
				}
			}
			err := sqlite.ExecRaw(db, insertRecording, c.UUID, "/rec/a.wav")
			wantCode(t, err, consent.ECONFLICT)
			if !strings.Contains(err.Error(), "no stored grant") {
				t.Fatalf("unclear error: %v", err)
			}
		})
	}

	t.Run("ErrRecording_withdrawn", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		if _, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, sqlite.ExecRaw(db, insertRecording, c.UUID, "/rec/a.wav"), consent.ECONFLICT)
	})

	t.Run("ErrRecording_noCall", func(t *testing.T) {
		db := MustOpenDB(t)
		wantCode(t, sqlite.ExecRaw(db, insertRecording, newUUID(t), "/rec/a.wav"), consent.ECONFLICT)
	})

	t.Run("ErrDecisionRewritten", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		wantCode(t, sqlite.ExecRaw(db, `UPDATE calls SET decision = 'declined' WHERE uuid = ?`, c.UUID), consent.ECONFLICT)
	})

	t.Run("ErrGrantWithoutProof", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustCreateCall(t, db, pseudonym(t), now)
		wantCode(t, sqlite.ExecRaw(db, `UPDATE calls SET decision = 'granted' WHERE uuid = ?`, c.UUID), consent.EINVALID)
	})

	t.Run("ErrUnknownDecision", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustCreateCall(t, db, pseudonym(t), now)
		wantCode(t, sqlite.ExecRaw(db, `UPDATE calls SET decision = 'yes' WHERE uuid = ?`, c.UUID), consent.EINVALID)
	})

	t.Run("ErrWithdrawalUndone", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		if _, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, sqlite.ExecRaw(db, `UPDATE calls SET withdrawn_at = NULL WHERE uuid = ?`, c.UUID), consent.ECONFLICT)
	})

	// Purge: call metadata goes only after its audio; the tombstone outlives the call.
	t.Run("Purge", func(t *testing.T) {
		db := MustOpenDB(t)
		live := mustRecordingIn(t, db, consent.RecordingComplete)
		gone := mustRecordingIn(t, db, consent.RecordingDeleted)
		wantCode(t, sqlite.ExecRaw(db, `DELETE FROM calls WHERE uuid = ?`, live.UUID), consent.ECONFLICT)
		wantCode(t, sqlite.ExecRaw(db, `DELETE FROM recordings WHERE call_uuid = ?`, live.UUID), consent.ECONFLICT)
		if err := sqlite.ExecRaw(db, `DELETE FROM calls WHERE uuid = ?`, gone.UUID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindCall(ctx, gone.UUID); consent.ErrorCode(err) != consent.ENOTFOUND {
			t.Fatalf("purged call still found: %v", err)
		}
		if recs, _ := db.FindRecordings(ctx, consent.RecordingFilter{CallUUID: gone.UUID}); len(recs) != 0 {
			t.Fatal("recording row outlived its purged call")
		}
		if ts := mustTombstones(t, db); len(ts) != 1 || ts[0].CallUUID != gone.UUID {
			t.Fatalf("tombstones after purge: %+v", ts)
		}
	})

	t.Run("ErrTombstoneChanged", func(t *testing.T) {
		db := MustOpenDB(t)
		mustRecordingIn(t, db, consent.RecordingDeleted)
		wantCode(t, sqlite.ExecRaw(db, `UPDATE tombstones SET reason = 'orphan'`), consent.ECONFLICT)
		wantCode(t, sqlite.ExecRaw(db, `DELETE FROM tombstones`), consent.ECONFLICT)
	})
}
