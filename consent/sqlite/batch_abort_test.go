package sqlite_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// TestDB_BatchAbortsWhenItsTransactionIsGone: SQLite can roll a whole transaction back by
// itself, in the middle of one write (disk full, an I/O error; here a trigger's RAISE(ROLLBACK)).
// The savepoint of that write is gone with it and ROLLBACK TO fails: the batch is in a state
// nobody knows. It must be aborted and every write in it told that it was not stored, and none
// of it may be stored: not the writes before the failed one (rolled back by SQLite), nor the
// ones after it, which would otherwise run outside any transaction, each committed on its own,
// while the COMMIT at the end fails and tells their callers they were not. Writes after the
// batch go on as usual.
func TestDB_BatchAbortsWhenItsTransactionIsGone(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	before := MustCreateCall(t, db, pseudonym(t), now)
	after := MustCreateCall(t, db, pseudonym(t), now)
	if err := sqlite.ExecRaw(db, `CREATE TRIGGER test_rollback BEFORE INSERT ON tombstones
		WHEN NEW.path = '/rec/rollback.wav'
		BEGIN SELECT RAISE(ROLLBACK, 'the transaction was rolled back'); END`); err != nil {
		t.Fatal(err)
	}
	release := holdLock(t, db)

	// The first write holds the committer in BEGIN; the next three queue behind it, in this
	// order, and run as one batch once the lock is released.
	var wg sync.WaitGroup
	var blockErr, beforeErr, failErr, afterErr error
	wg.Go(func() { blockErr = sqlite.Update(db, ctx, func(*sqlite.Tx) error { return nil }) })
	time.Sleep(50 * time.Millisecond)
	wg.Go(func() { beforeErr = db.DecideCall(ctx, before.UUID, consent.DecisionDeclined, grantProof(now)) })
	time.Sleep(20 * time.Millisecond)
	wg.Go(func() {
		failErr = sqlite.Update(db, ctx, func(tx *sqlite.Tx) error {
			_, err := tx.Exec(`INSERT INTO tombstones (path, deleted_at, reason) VALUES ('/rec/rollback.wav', '2025-03-14T00:00:00.000000000Z', 'orphan')`)
			return err
		})
	})
	time.Sleep(20 * time.Millisecond)
	wg.Go(func() { afterErr = db.DecideCall(ctx, after.UUID, consent.DecisionDeclined, grantProof(now)) })
	time.Sleep(50 * time.Millisecond)
	release()
	wg.Wait()

	if blockErr != nil {
		t.Fatalf("the write before the batch: %v", blockErr)
	}
	for name, err := range map[string]error{"before": beforeErr, "failed": failErr, "after": afterErr} {
		if err == nil {
			t.Errorf("write %s the failed one returned nil, but its batch was rolled back", name)
		}
	}
	t.Logf("errors: before %v; failed %v; after %v", beforeErr, failErr, afterErr)
	for name, c := range map[string]*consent.Call{"before": before, "after": after} {
		if got := mustFindCall(t, db, c.UUID); got.Decision != consent.DecisionPending {
			t.Errorf("write %s the failed one: decision %s stored, though the write returned %v", name, got.Decision, map[string]error{"before": beforeErr, "after": afterErr}[name])
		}
	}
	if ts := mustTombstones(t, db); len(ts) != 0 {
		t.Errorf("%d tombstones stored by an aborted batch", len(ts))
	}
	if err := db.DecideCall(ctx, after.UUID, consent.DecisionDeclined, grantProof(now)); err != nil {
		t.Fatalf("a write after the aborted batch: %v", err)
	}
	if got := mustFindCall(t, db, after.UUID); got.Decision != consent.DecisionDeclined {
		t.Fatalf("the write after the aborted batch is not stored: %s", got.Decision)
	}
}
