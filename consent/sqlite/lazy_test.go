package sqlite_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// seenSync runs a write, lazy or not, and returns the synchronous level its transaction ran
// under.
func seenSync(t *testing.T, db *sqlite.DB, lazy bool) int {
	t.Helper()
	var level int
	write := sqlite.Update
	if lazy {
		write = sqlite.UpdateLazy
	}
	err := write(db, context.Background(), func(tx *sqlite.Tx) (err error) {
		level, err = sqlite.Synchronous(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return level
}

// A batch of only lazy writes commits under synchronous=NORMAL (no fsync of its own); every
// other batch, also one where a lazy write shares the commit with a durable one, and every
// write after a lazy batch, commits under FULL.
func TestDB_LazyWrites(t *testing.T) {
	db := MustOpenDB(t)
	if got := seenSync(t, db, false); got != 2 {
		t.Fatalf("durable write under synchronous %d, want 2", got)
	}
	if got := seenSync(t, db, true); got != 1 {
		t.Fatalf("lazy write under synchronous %d, want 1", got)
	}
	if got := seenSync(t, db, false); got != 2 {
		t.Fatalf("durable write after a lazy one under synchronous %d, want 2: not restored", got)
	}

	// Hold the committer so that a lazy and a durable write queue into one batch.
	ctx := context.Background()
	hold, release := make(chan struct{}), make(chan struct{})
	go sqlite.Update(db, ctx, func(*sqlite.Tx) error { close(hold); <-release; return nil })
	<-hold
	var wg sync.WaitGroup
	levels := make([]int, 2)
	for i, lazy := range []bool{true, false} {
		wg.Go(func() {
			write := map[bool]func(*sqlite.DB, context.Context, func(*sqlite.Tx) error) error{true: sqlite.UpdateLazy, false: sqlite.Update}[lazy]
			if err := write(db, ctx, func(tx *sqlite.Tx) (err error) { levels[i], err = sqlite.Synchronous(tx); return err }); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // both queued behind the held batch
	close(release)
	wg.Wait()
	if levels[0] != 2 || levels[1] != 2 {
		t.Fatalf("a lazy write sharing a batch with a durable one ran under %d, the durable one under %d; want both 2", levels[0], levels[1])
	}
}

// FinishCall is lazy only for a call without a recording: a recording's final state is
// committed durably.
func TestDB_FinishCallLazyOnlyWithoutRecording(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	declined := &consent.Call{UUID: newUUID(t), CallerPseudonym: pseudonym(t), StartedAt: now, Decision: consent.DecisionDeclined, Proof: grantProof(now)}
	if err := db.StoreDecision(ctx, declined); err != nil {
		t.Fatal(err)
	}
	granted, _ := MustGrant(t, db, now)
	before := sqlite.LazyBatches(db)
	if _, err := db.FinishCall(ctx, granted.UUID, now.Add(time.Minute), &consent.RecordingEnd{State: consent.RecordingFailed}); err != nil {
		t.Fatal(err)
	}
	if n := sqlite.LazyBatches(db) - before; n != 0 {
		t.Errorf("the end of a recorded call: %d lazy batches, want 0", n)
	}
	if _, err := db.FinishCall(ctx, declined.UUID, now.Add(time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if n := sqlite.LazyBatches(db) - before; n != 1 {
		t.Errorf("the end of a call without a recording: %d lazy batches, want 1", n)
	}
	if c, err := db.FindCall(ctx, declined.UUID); err != nil || !c.EndedAt.Equal(now.Add(time.Minute)) {
		t.Errorf("declined call after its lazy end: %+v, %v", c, err)
	}
}
