package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// maxBatch bounds how many writes share one commit, so one batch never holds the write lock
// long enough to starve a CLI process waiting on the busy timeout.
const maxBatch = 128

// committer is group commit: writes from concurrent calls queue here, and one goroutine runs
// whatever queued while the previous commit was syncing as ONE transaction, each write inside
// its own savepoint. The fsync, which dominates a durable commit, is then paid once per batch
// instead of once per write, while every caller still returns only after the COMMIT that
// contains its write reached the disk. A write that fails is rolled back to its savepoint and
// does not affect the others; a failed COMMIT fails every write of the batch, and so does a
// savepoint that fails (the transaction is then in an unknown state, and is rolled back).
//
// A caller whose ctx ends while its write is still queued gets an error at once and the write
// never runs; once the write runs, the caller waits for the COMMIT, so nil always means
// committed (see writeOp).
type committer struct {
	ops         chan *writeOp // closed by stop; sends happen under DB.mu held for reading
	done        chan struct{}
	writer      *sql.DB // captured at start: Close clears DB.writer only after stop returns
	busyTimeout time.Duration
	now         func() time.Time
	walRestart  *atomic.Bool  // set by the checkpointer when the WAL should start over
	lazyBatches atomic.Int64  // batches committed without an fsync (tests read it)
	batches     *atomic.Int64 // counts every commit, for the checkpointer
}

func (db *DB) startCommitter() {
	c := &committer{
		ops:         make(chan *writeOp, maxBatch),
		done:        make(chan struct{}),
		writer:      db.writer,
		busyTimeout: db.busyTimeout,
		now:         db.now,
		walRestart:  &db.walRestart,
		batches:     &db.batches,
	}
	db.commit = c
	go func() {
		defer close(c.done)
		for op := range c.ops {
			batch := []*writeOp{op}
		drain:
			for len(batch) < maxBatch {
				select {
				case op, ok := <-c.ops:
					if !ok {
						break drain
					}
					batch = append(batch, op)
				default:
					break drain
				}
			}
			c.runBatch(batch)
			if c.walRestart.CompareAndSwap(true, false) {
				// Between batches, never inside one: the checkpointer has copied the frames
				// already, so this only waits for readers and resets the WAL to its start.
				c.writer.Exec(`PRAGMA wal_checkpoint(RESTART)`)
			}
		}
	}()
}

// enqueue queues fn. The caller must hold DB.mu for reading, so that stop cannot close the
// channel under a send. A full queue is waited for only until ctx ends.
func (c *committer) enqueue(ctx context.Context, fn func(tx *Tx) error, lazy bool) (*writeOp, error) {
	if err := ctx.Err(); err != nil {
		return nil, abandoned(err) // select would pick at random between a free slot and Done
	}
	op := &writeOp{ctx: ctx, fn: fn, lazy: lazy, errc: make(chan error, 1)}
	select {
	case c.ops <- op:
		return op, nil
	case <-ctx.Done():
		return nil, abandoned(ctx.Err())
	}
}

// wait returns the result of op. If ctx ends first and op has not started, op is cancelled
// and will never run, so returning early cannot leave the caller unsure whether it is on disk.
// If op already runs, the caller waits for the real result: the COMMIT is short then, since
// BEGIN is behind it.
func (c *committer) wait(ctx context.Context, op *writeOp) error {
	select {
	case err := <-op.errc:
		return err
	case <-ctx.Done():
	}
	if op.cancel() {
		return abandoned(ctx.Err())
	}
	// Running, or cancelled by the runner, which then sends the error itself.
	return <-op.errc
}

// stop lets queued writes finish and ends the goroutine. The caller must hold DB.mu for
// writing, so that no enqueue is in progress.
func (c *committer) stop() {
	close(c.ops)
	<-c.done
}

// runBatch runs the ops of one batch in one transaction and sends every op its result.
func (c *committer) runBatch(batch []*writeOp) {
	errs := make([]error, len(batch))
	defer func() {
		for i, op := range batch {
			op.errc <- errs[i] // buffered: never blocks, even if the caller has gone
		}
	}()
	fail := func(err error) {
		for i := range batch {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}

	// Ops whose caller already gave up are dropped before BEGIN, so that they neither wait
	// for the lock nor stretch the wait of the others (see beginWait).
	live := make([]*writeOp, 0, len(batch))
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil && op.cancel() {
			errs[i] = abandoned(err)
		}
		if op.state.Load() != opCancelled {
			live = append(live, op)
		}
	}
	if len(live) == 0 {
		return
	}

	// BEGIN runs while the ops are still queued, so a caller whose deadline passes during a
	// long wait for the lock can still cancel and return.
	lazy := !slices.ContainsFunc(live, func(op *writeOp) bool { return !op.lazy })
	conn, sqlTx, err := c.begin(beginWait(live, c.busyTimeout), lazy)
	if err != nil {
		fail(formatError(fmt.Errorf("begin: %w", err)))
		return
	}
	defer c.release(conn, lazy)
	tx := &Tx{tx: sqlTx, now: c.now()}
	for i, op := range batch {
		if !op.start() {
			continue // cancelled: its caller has returned, and it must stay undone
		}
		var abort error
		if errs[i], abort = runSavepoint(tx, op); abort != nil {
			// Whatever is left of the transaction goes: no write of this batch may stay, not
			// even one SQLite committed on its own. The ops not yet run never run.
			sqlTx.Rollback()
			fail(abort)
			return
		}
	}
	if err := sqlTx.Commit(); err != nil {
		fail(formatError(fmt.Errorf("commit: %w", err)))
		return
	}
	c.batches.Add(1)
	if lazy {
		c.lazyBatches.Add(1)
	}
}

// Exec runs a statement of the write transaction. It takes no ctx, on purpose: an interrupted
// statement inside an explicit transaction makes SQLite roll the whole transaction back, taking
// the other callers' writes of the batch with it. Statements are short and bounded by the busy
// timeout instead. A repeated query reuses its prepared statement (the driver's statement cache,
// see dsn), so a write needs no Prepare either.
func (tx *Tx) Exec(query string, args ...any) (sql.Result, error) {
	return tx.tx.Exec(query, args...)
}

// Query runs a query inside the write transaction; no ctx, as for Exec.
func (tx *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	return tx.tx.Query(query, args...)
}

// QueryRow runs a one-row query inside the write transaction; no ctx, as for Exec.
func (tx *Tx) QueryRow(query string, args ...any) *sql.Row {
	return tx.tx.QueryRow(query, args...)
}
