package sqlite

import (
	"context"
	"time"
)

// SetBusyTimeout shortens the busy timeout of a DB before Open, so the locked-database test
// does not wait five seconds. Production code has no way to go below DefaultBusyTimeout.
func SetBusyTimeout(db *DB, d time.Duration) { db.busyTimeout = d }

// ExecRaw runs SQL on the writer connection, bypassing the store's checks, so tests can prove
// that the schema itself refuses what the Go code already refuses. Errors are translated as
// the store translates them.
func ExecRaw(db *DB, query string, args ...any) error {
	_, err := db.writer.Exec(query, args...)
	return formatError(err)
}

// ErrNotOpen is the error of a read or write before Open or after Close.
var ErrNotOpen = errNotOpen

// Update runs fn as a write of the store, so tests can run writes the store has no method for:
// one that panics, or one that blocks until the test lets it go.
func Update(db *DB, ctx context.Context, fn func(tx *Tx) error) error { return db.update(ctx, fn) }

// WriterBusyTimeout returns the busy timeout, in milliseconds, of the writer connection, so a
// test can check that a shortened BEGIN restored it.
func WriterBusyTimeout(db *DB) (ms int, err error) {
	err = db.writer.QueryRow(`PRAGMA busy_timeout`).Scan(&ms)
	return ms, err
}

// SetCheckpointEvery shortens the background checkpoint interval before Open.
func SetCheckpointEvery(db *DB, d time.Duration) { db.checkpointEvery = d }

// WriterAutoCheckpoint returns the writer connection's wal_autocheckpoint.
func WriterAutoCheckpoint(db *DB) (pages int, err error) {
	err = db.writer.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&pages)
	return pages, err
}

// UpdateLazy runs fn as a write a crash may lose (DB.updateLazy).
func UpdateLazy(db *DB, ctx context.Context, fn func(tx *Tx) error) error {
	return db.updateLazy(ctx, fn)
}

// Synchronous returns the synchronous setting the transaction runs under: 2 (FULL) means its
// COMMIT fsyncs, 1 (NORMAL) that it does not.
func Synchronous(tx *Tx) (level int, err error) {
	err = tx.QueryRow(`PRAGMA synchronous`).Scan(&level)
	return level, err
}

// LazyBatches returns how many batches committed without an fsync of their own.
func LazyBatches(db *DB) int64 { return db.commit.lazyBatches.Load() }

// Checkpoints returns how many background checkpoints ran.
func Checkpoints(db *DB) int64 { return db.checkpoints.Load() }
