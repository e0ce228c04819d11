package sqlite

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/callconsent/callconsent/consent"
)

// States of a writeOp. An op leaves opQueued exactly once, by compare-and-swap, so the runner
// and a caller whose ctx ended can never both win: either the op runs and its caller waits for
// the COMMIT, or it is cancelled and nothing of it is ever executed.
const (
	opQueued int32 = iota
	opRunning
	opCancelled
)

// writeOp is one write queued for the committer.
type writeOp struct {
	ctx   context.Context
	fn    func(tx *Tx) error
	lazy  bool       // may commit without its own fsync (see DB.updateLazy)
	errc  chan error // buffered (1): receives the result exactly once
	state atomic.Int32
}

// start claims op for the runner; false means it was cancelled and must be skipped.
func (op *writeOp) start() bool { return op.state.CompareAndSwap(opQueued, opRunning) }

// cancel claims op for its caller; false means it already runs (or was already cancelled).
func (op *writeOp) cancel() bool { return op.state.CompareAndSwap(opQueued, opCancelled) }

// abandoned is the error of a write whose caller gave up before it ran: nothing was stored,
// and errors.Is finds context.DeadlineExceeded or context.Canceled.
func abandoned(ctxErr error) error {
	return fmt.Errorf("write not applied: %w", ctxErr)
}

// runSavepoint runs op inside its own savepoint, so that its failure undoes only its own part
// of the batch. It returns op's result, and abort when the batch can no longer be trusted: a
// savepoint that cannot be set, rolled back to or released means the transaction is not in the
// state the batch believes (SQLite rolls a whole transaction back by itself on some errors,
// e.g. disk full or I/O errors, and its savepoints go with it). The statements of later ops
// would then run outside any transaction, each committed on its own; the caller must roll the
// batch back instead and fail every op of it.
func runSavepoint(tx *Tx, op *writeOp) (result, abort error) {
	if err := op.ctx.Err(); err != nil {
		// The caller gave up after its op was claimed; it still waits for this result, and
		// doing nothing is better than doing it for nobody.
		return abandoned(err), nil
	}
	if _, err := tx.tx.Exec(`SAVEPOINT op`); err != nil {
		return nil, batchAborted("savepoint", err)
	}
	if err := callFn(tx, op.fn); err != nil {
		if _, rerr := tx.tx.Exec(`ROLLBACK TO op`); rerr != nil {
			return formatError(err), batchAborted("rollback to savepoint", rerr)
		}
		if _, rerr := tx.tx.Exec(`RELEASE op`); rerr != nil {
			return formatError(err), batchAborted("release savepoint", rerr)
		}
		return formatError(err), nil
	}
	if _, err := tx.tx.Exec(`RELEASE op`); err != nil {
		return nil, batchAborted("release savepoint", err)
	}
	return nil, nil
}

// batchAborted is the error of every write of a batch that was rolled back because step failed.
func batchAborted(step string, err error) error {
	return fmt.Errorf("write not applied: its batch was rolled back after %s failed: %w", step, formatError(err))
}

// callFn runs fn and turns a panic into an error. fn runs on the committer goroutine, where a
// panic would kill the whole daemon for one buggy write, and leave the rest of the batch
// waiting; the caller rolls the savepoint back like any failed write.
func callFn(tx *Tx, fn func(tx *Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = consent.Errorf(consent.EINTERNAL, "bug: write panicked, rolled back: %v", r)
		}
	}()
	return fn(tx)
}
