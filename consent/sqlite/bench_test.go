package sqlite_test

import (
	"cmp"
	"context"
	"os"
	"sync"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

func TestDB_Checkpoint(t *testing.T) {
	db := MustOpenDB(t)
	MustGrantedCall(t, db, now)
	if err := db.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(db.Path() + "-wal"); err != nil {
		t.Fatal(err)
	} else if fi.Size() != 0 {
		t.Fatalf("wal holds %d bytes after TRUNCATE checkpoint", fi.Size())
	}
}

// TestDB_ConcurrentWrites runs the daemon's pattern, many calls deciding at once, through the
// one writer connection: every write must succeed (queued in Go, never SQLITE_BUSY).
func TestDB_ConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	const workers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				c := &consent.Call{UUID: newUUID(t), CallerPseudonym: consent.AnonymousPseudonym, StartedAt: now}
				if err := db.CreateCall(ctx, c); err != nil {
					errs <- err
					continue
				}
				errs <- db.DecideCall(ctx, c.UUID, consent.DecisionDeclined, grantProof(now))
				if _, err := db.FindCalls(ctx, consent.CallFilter{Limit: 5}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if calls, _ := db.FindCalls(ctx, consent.CallFilter{Decision: consent.DecisionDeclined}); len(calls) != workers*each {
		t.Fatalf("%d declined calls, want %d", len(calls), workers*each)
	}
}

// BenchmarkDecideCall measures the durable path of one call: CreateCall and DecideCall, each a
// committed, fsynced transaction. commits/s is what bounds calls per second at the prompt.
func BenchmarkDecideCall(b *testing.B) {
	ctx := context.Background()
	db := MustOpenDB(b)
	proof := grantProof(now)
	for b.Loop() {
		c := &consent.Call{UUID: newUUID(b), CallerPseudonym: consent.AnonymousPseudonym, StartedAt: now}
		if err := db.CreateCall(ctx, c); err != nil {
			b.Fatal(err)
		}
		if err := db.DecideCall(ctx, c.UUID, consent.DecisionGranted, proof); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkDecideCallConcurrent is the daemon's real load: many calls deciding at once. Group
// commit lets their writes share fsyncs; each write still returns only after its commit.
func BenchmarkDecideCallConcurrent(b *testing.B) {
	ctx := context.Background()
	db := MustOpenDB(b)
	proof := grantProof(now)
	b.SetParallelism(32) // 32 × GOMAXPROCS goroutines, like calls reaching the prompt together
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := &consent.Call{UUID: newUUID(b), CallerPseudonym: consent.AnonymousPseudonym, StartedAt: now}
			if err := db.CreateCall(ctx, c); err != nil {
				b.Error(err)
				return
			}
			if err := db.DecideCall(ctx, c.UUID, consent.DecisionGranted, proof); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "commits/s")
}

// TestDB_GroupCommitIsolation: a write that fails inside a shared batch is rolled back alone;
// the writes around it in the same commit are kept. Pairs of goroutines insert the same call
// UUID at once: exactly one of each pair may win, and every winner must be on disk.
func TestDB_GroupCommitIsolation(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	const pairs = 48
	var wg sync.WaitGroup
	errs := make([]error, 2*pairs)
	ids := make([]string, pairs)
	for i := range ids {
		ids[i] = newUUID(t)
	}
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &consent.Call{UUID: ids[i/2], CallerPseudonym: consent.AnonymousPseudonym, StartedAt: now}
			errs[i] = db.CreateCall(ctx, c)
		}()
	}
	wg.Wait()
	for p := 0; p < pairs; p++ {
		a, b := errs[2*p], errs[2*p+1]
		if (a == nil) == (b == nil) {
			t.Errorf("pair %d: errors %v and %v, want exactly one conflict", p, a, b)
		} else if err := cmp.Or(a, b); consent.ErrorCode(err) != consent.ECONFLICT {
			t.Errorf("pair %d: %v, want conflict", p, err)
		}
	}
	db.Close()
	reopened := sqlite.NewDB(db.Path())
	if err := reopened.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	calls, err := reopened.FindCalls(ctx, consent.CallFilter{})
	if err != nil || len(calls) != pairs {
		t.Fatalf("%d calls on disk, want %d (err %v)", len(calls), pairs, err)
	}
}
