package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// maxBatch bounds how many writes share one commit, so one batch never holds the write lock
// long enough to starve a CLI process waiting on the busy timeout.
const maxBatch = 128

// committer is group commit: writes from concurrent calls queue here, and one goroutine runs
// whatever queued while the previous commit was syncing as ONE transaction, each write inside
// its own savepoint. The fsync, which dominates a durable commit, is then paid once per batch
// instead of once per write, while every caller still returns only after the COMMIT that
// contains its write reached the disk. A write that fails is rolled back to its savepoint and
// does not affect the others; a failed COMMIT fails every write of the batch.
type committer struct {
	mu     sync.RWMutex // held for reading while enqueueing, for writing by stop
	closed bool
	ops    chan *writeOp
	done   chan struct{}
}

type writeOp struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	errc chan error
}

func (db *DB) startCommitter() {
	c := &committer{ops: make(chan *writeOp, maxBatch), done: make(chan struct{})}
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
			db.runBatch(batch)
		}
	}()
}

// submit queues fn and waits for the commit of its batch. It waits even if ctx ends meanwhile:
// returning early would leave the caller unsure whether the write is on disk.
func (c *committer) submit(ctx context.Context, fn func(tx *Tx) error) error {
	op := &writeOp{ctx: ctx, fn: fn, errc: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errNotOpen
	}
	c.ops <- op
	c.mu.RUnlock()
	return <-op.errc
}

// stop lets queued writes finish and ends the goroutine.
func (c *committer) stop() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.ops)
	}
	c.mu.Unlock()
	<-c.done
}

func (db *DB) runBatch(batch []*writeOp) {
	errs := make([]error, len(batch))
	fail := func(err error) {
		for i := range batch {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	// The transaction runs on a context that no caller can cancel: an interrupted statement
	// inside an explicit transaction can roll the whole transaction back, taking the other
	// callers' writes with it.
	bg := context.Background()
	sqlTx, err := db.writer.BeginTx(bg, nil)
	if err != nil {
		fail(formatError(fmt.Errorf("begin: %w", err)))
	} else {
		tx := &Tx{Tx: sqlTx, now: db.now()}
		for i, op := range batch {
			errs[i] = runSavepoint(tx, op)
		}
		if err := sqlTx.Commit(); err != nil {
			fail(formatError(fmt.Errorf("commit: %w", err)))
		}
	}
	for i, op := range batch {
		op.errc <- errs[i]
	}
}

func runSavepoint(tx *Tx, op *writeOp) error {
	if err := op.ctx.Err(); err != nil {
		return err // the caller gave up before its turn: do nothing rather than half of it
	}
	if _, err := tx.Tx.Exec(`SAVEPOINT op`); err != nil {
		return formatError(fmt.Errorf("savepoint: %w", err))
	}
	if err := op.fn(tx); err != nil {
		// ROLLBACK TO fails only if SQLite already rolled the whole transaction back (disk
		// full, I/O error): then COMMIT fails too and reports it to every write of the batch.
		tx.Tx.Exec(`ROLLBACK TO op`)
		tx.Tx.Exec(`RELEASE op`)
		return formatError(err)
	}
	if _, err := tx.Tx.Exec(`RELEASE op`); err != nil {
		return formatError(fmt.Errorf("release savepoint: %w", err))
	}
	return nil
}

// ExecContext runs a statement of the write transaction. The ctx argument is ignored on
// purpose (see runBatch): writes are short and bounded by the busy timeout instead.
func (tx *Tx) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return tx.Tx.ExecContext(context.Background(), query, args...)
}

// QueryContext runs a query inside the write transaction; ctx is ignored as in ExecContext.
func (tx *Tx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.Tx.QueryContext(context.Background(), query, args...)
}

// QueryRowContext runs a one-row query inside the write transaction; ctx is ignored as in
// ExecContext.
func (tx *Tx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return tx.Tx.QueryRowContext(context.Background(), query, args...)
}
