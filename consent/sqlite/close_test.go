package sqlite_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// TestDB_CloseWhileWriting: handlers still write while the daemon shuts down. Under -race,
// Close must neither race with them nor panic; every write either succeeds, and is then on disk
// after a reopen, or fails with the not-open error.
func TestDB_CloseWhileWriting(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	const writers = 8
	stored := make([][]string, writers)
	errs := make([]error, writers)
	ready := make(chan struct{}, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				c := &consent.Call{UUID: newUUID(t), CallerPseudonym: consent.AnonymousPseudonym, StartedAt: now}
				err := db.CreateCall(ctx, c)
				if i == 0 {
					ready <- struct{}{} // in its loop, whatever the result
				}
				if err != nil {
					errs[w] = err
					return
				}
				stored[w] = append(stored[w], c.UUID)
			}
		})
	}
	for range writers {
		<-ready
	}
	time.Sleep(10 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	for w, err := range errs {
		if !errors.Is(err, sqlite.ErrNotOpen) {
			t.Fatalf("writer %d stopped with %v, want the not-open error", w, err)
		}
	}
	db2 := sqlite.NewDB(db.Path())
	if err := db2.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	n := 0
	for _, ids := range stored {
		for _, id := range ids {
			if _, err := db2.FindCall(ctx, id); err != nil {
				t.Fatalf("write returned nil but call %s is not on disk: %v", id, err)
			}
			n++
		}
	}
	t.Logf("%d writes committed before Close", n)
}
