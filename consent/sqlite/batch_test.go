package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// holdLock takes the write lock of db's file from another connection, as a CLI or a backup in
// another process would, until the returned function commits.
func holdLock(tb testing.TB, db *sqlite.DB) (release func()) {
	tb.Helper()
	ctx := context.Background()
	other, err := sql.Open("sqlite3", "file:"+db.Path()+"?_busy_timeout=0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { other.Close() })
	conn, err := other.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		tb.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
				tb.Error(err)
			}
		})
	}
	tb.Cleanup(release)
	return release
}

// TestDB_WriteDeadlineWhileLocked is the reviewer's scenario: another process holds the lock,
// and far more writes queue than one batch takes. Every write has a 100 ms deadline; none may
// wait longer than one busy timeout plus its deadline (without deadlines, the n-th waits about
// n/128 busy timeouts), each fails, and none is stored once the lock is released.
func TestDB_WriteDeadlineWhileLocked(t *testing.T) {
	const (
		busy     = 300 * time.Millisecond
		deadline = 100 * time.Millisecond
		slack    = 300 * time.Millisecond
		writes   = 400
	)
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "callconsent.db"))
	db.Now = func() time.Time { return now }
	sqlite.SetBusyTimeout(db, busy)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := make([]string, writes)
	errs := make([]error, writes)
	var wg sync.WaitGroup
	for i := range ids {
		ids[i] = newUUID(t)
		wg.Go(func() {
			errs[i] = db.CreateCall(ctx, &consent.Call{UUID: ids[i], CallerPseudonym: consent.AnonymousPseudonym, StartedAt: now})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	release := holdLock(t, db)
	waited := make([]time.Duration, writes)
	for i := range ids {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, deadline)
			defer cancel()
			start := time.Now()
			errs[i] = db.DecideCall(ctx, ids[i], consent.DecisionGranted, grantProof(now))
			waited[i] = time.Since(start)
		})
	}
	wg.Wait()
	var longest time.Duration
	for i, err := range errs {
		longest = max(longest, waited[i])
		if err == nil {
			t.Fatalf("write %d succeeded while another connection held the lock", i)
		} else if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, sqlite.ErrLocked) {
			t.Fatalf("write %d: %v, want the deadline or the lock", i, err)
		}
	}
	t.Logf("longest wait %v; e.g. %v", longest, errs[writes-1])
	if longest > busy+deadline+slack {
		t.Errorf("a write waited %v with a %v deadline and a %v busy timeout", longest, deadline, busy)
	}

	release()
	// A write after the others: the queue is FIFO, so any batch still holding one of them
	// has finished when this one returns.
	if err := db.CreateCall(ctx, &consent.Call{UUID: newUUID(t), CallerPseudonym: consent.AnonymousPseudonym, StartedAt: now}); err != nil {
		t.Fatalf("write after the lock was released: %v", err)
	}
	for i, id := range ids {
		if got := mustFindCall(t, db, id); got.Decision != consent.DecisionPending {
			t.Fatalf("write %d failed but left decision %s", i, got.Decision)
		}
	}
	if ms, err := sqlite.WriterBusyTimeout(db); err != nil || ms != int(busy.Milliseconds()) {
		t.Fatalf("writer busy timeout %d ms after shortened BEGINs, want %d (err %v)", ms, busy.Milliseconds(), err)
	}
}

// TestDB_WriteCancelledWhileQueued: a write queued behind a BEGIN that waits for another
// process's lock returns as soon as its ctx is cancelled, and is never applied, not even
// when the lock is released and the batches behind it run.
func TestDB_WriteCancelledWhileQueued(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t) // default busy timeout: the first write waits up to 5 s for BEGIN
	first := MustCreateCall(t, db, pseudonym(t), now)
	queued := MustCreateCall(t, db, pseudonym(t), now)
	release := holdLock(t, db)

	firstErr := make(chan error, 1)
	go func() { firstErr <- db.DecideCall(ctx, first.UUID, consent.DecisionGranted, grantProof(now)) }()
	time.Sleep(50 * time.Millisecond) // let the committer take it and block in BEGIN

	qctx, cancel := context.WithCancel(ctx)
	queuedErr := make(chan error, 1)
	go func() { queuedErr <- db.DecideCall(qctx, queued.UUID, consent.DecisionGranted, grantProof(now)) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-queuedErr:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled write: %v, want context.Canceled in the chain", err)
		}
	case <-time.After(time.Second):
		t.Fatal("cancelled write still waiting after 1s")
	}

	release()
	if err := <-firstErr; err != nil {
		t.Fatalf("write ahead of the cancelled one: %v", err)
	}
	if err := db.EndCall(ctx, first.UUID, now); err != nil { // FIFO: runs after the cancelled one
		t.Fatal(err)
	}
	if got := mustFindCall(t, db, queued.UUID); got.Decision != consent.DecisionPending {
		t.Fatalf("cancelled write was applied: decision %s", got.Decision)
	}
}

// TestDB_WriteCancelledWhileRunning: once a write runs, cancelling its ctx does not make it
// return early: it waits for the COMMIT and returns nil, because nil must mean committed.
func TestDB_WriteCancelledWhileRunning(t *testing.T) {
	db := MustOpenDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	started, proceed := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- sqlite.Update(db, ctx, func(tx *sqlite.Tx) error {
			close(started)
			<-proceed
			_, err := tx.Exec(`INSERT INTO tombstones (path, deleted_at, reason) VALUES ('/rec/a.wav', '2025-03-14T00:00:00.000000000Z', 'orphan')`)
			return err
		})
	}()
	<-started
	cancel()
	select {
	case err := <-errc:
		t.Fatalf("running write returned before its commit: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(proceed)
	if err := <-errc; err != nil {
		t.Fatalf("running write: %v", err)
	}
	if ts := mustTombstones(t, db); len(ts) != 1 {
		t.Fatalf("%d tombstones, want the committed one", len(ts))
	}
}

// TestDB_WritePanics: a bug that panics inside a write must not kill the committer (and the
// daemon with it). The write fails with an internal error naming a bug and is rolled back;
// the other write of its batch and later writes are committed.
func TestDB_WritePanics(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	c := MustCreateCall(t, db, pseudonym(t), now)
	release := holdLock(t, db)

	// The first write blocks the committer in BEGIN, so the next two queue into one batch.
	var wg sync.WaitGroup
	var blockErr, panicErr, goodErr error
	wg.Go(func() { blockErr = sqlite.Update(db, ctx, func(*sqlite.Tx) error { return nil }) })
	time.Sleep(50 * time.Millisecond)
	wg.Go(func() {
		panicErr = sqlite.Update(db, ctx, func(tx *sqlite.Tx) error {
			if _, err := tx.Exec(`INSERT INTO tombstones (path, deleted_at, reason) VALUES ('/rec/half.wav', '2025-03-14T00:00:00.000000000Z', 'orphan')`); err != nil {
				return err
			}
			panic("boom")
		})
	})
	wg.Go(func() { goodErr = db.DecideCall(ctx, c.UUID, consent.DecisionGranted, grantProof(now)) })
	time.Sleep(50 * time.Millisecond)
	release()
	wg.Wait()

	if blockErr != nil || goodErr != nil {
		t.Fatalf("writes around the panic failed: %v, %v", blockErr, goodErr)
	}
	wantCode(t, panicErr, consent.EINTERNAL)
	if !strings.Contains(panicErr.Error(), "bug") || !strings.Contains(panicErr.Error(), "boom") {
		t.Fatalf("panic error does not say it is a bug: %v", panicErr)
	}
	if got := mustFindCall(t, db, c.UUID); got.Decision != consent.DecisionGranted {
		t.Fatalf("write in the panic's batch lost: decision %s", got.Decision)
	}
	if ts := mustTombstones(t, db); len(ts) != 0 {
		t.Fatalf("panicked write left %d tombstones", len(ts))
	}
	if err := db.EndCall(ctx, c.UUID, now); err != nil {
		t.Fatalf("write after the panic: %v", err)
	}
}

// TestDB_BeginBoundedByDeadlines: when every write of a batch has a deadline, its BEGIN stops
// waiting for the lock at the latest of them rather than at the busy timeout, so a batch whose
// callers have all given up does not hold up the writes queued behind it. Here a write without
// a deadline, queued behind such a batch while the lock stays held, gets its own full busy
// timeout from the moment the batch gave up, not after a second busy timeout.
func TestDB_BeginBoundedByDeadlines(t *testing.T) {
	const (
		busy     = 600 * time.Millisecond
		deadline = 100 * time.Millisecond
	)
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "callconsent.db"))
	db.Now = func() time.Time { return now }
	sqlite.SetBusyTimeout(db, busy)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	holdLock(t, db)

	start := time.Now()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, deadline)
			defer cancel()
			sqlite.Update(db, ctx, func(*sqlite.Tx) error { return nil })
		})
	}
	time.Sleep(20 * time.Millisecond) // the batch is in BEGIN
	err := sqlite.Update(db, ctx, func(*sqlite.Tx) error { return nil })
	waited := time.Since(start)
	wg.Wait()
	if !errors.Is(err, sqlite.ErrLocked) {
		t.Fatalf("write without deadline: %v, want ErrLocked", err)
	}
	t.Logf("write without deadline failed after %v", waited)
	if waited > deadline+busy+busy/2 {
		t.Errorf("write without deadline waited %v: the batch ahead held BEGIN past its callers' %v deadline", waited, deadline)
	}
}
