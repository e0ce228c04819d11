// Package sqlite implements the consent store (consent.FlowStore, ReconcileStore, WithdrawStore,
// CallFinder, KeyStore) and retention.Store on a SQLite file in WAL mode. It is the only package of
// callconsent that imports the SQLite driver: driver errors are translated into consent errors
// here, and every write returns only after its COMMIT reached the disk (synchronous=FULL).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callconsent/callconsent/consent"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// DB is every part of the store (consent/store.go); retention.Store is checked where the sweeper
// is wired (cmd/callconsent), since this package does not import retention.
var (
	_ consent.FlowStore      = (*DB)(nil)
	_ consent.ReconcileStore = (*DB)(nil)
	_ consent.WithdrawStore  = (*DB)(nil)
	_ consent.CallFinder     = (*DB)(nil)
	_ consent.KeyStore       = (*DB)(nil)
)

// DefaultBusyTimeout is how long a write waits for another connection's lock before it fails
// with ErrLocked. Decisions are written while a caller waits, but a short timeout would turn
// a checkpoint or an admin's CLI write into a lost recording.
const DefaultBusyTimeout = 5 * time.Second

// readConns is the size of the read pool. Readers never block the writer in WAL mode, so a
// few are enough for the CLI, metrics and the retention sweep at once.
const readConns = 4

// DB is the SQLite store. It holds one writer connection, so writes are serialised in Go
// rather than by SQLite's busy handler, and a separate read-only pool.
type DB struct {
	path string

	// mu guards the three handles below against Close, which a daemon calls on shutdown while
	// handlers may still write: writers and readers hold it for reading while they take a
	// handle (and while enqueueing), Close holds it for writing.
	mu     sync.RWMutex
	writer *sql.DB // one connection, BEGIN IMMEDIATE
	reader *sql.DB // mode=ro, query_only
	commit *committer
	ckpt   *checkpointer

	walRestart atomic.Bool // the checkpointer asks the committer to reset the WAL
	readOnly   bool        // opened by OpenReadOnly: no writer, every write refused

	checkpointEvery time.Duration // tests shorten it; 0 means checkpointEvery
	batches         atomic.Int64  // commits of the committer, for the checkpointer
	checkpoints     atomic.Int64  // background checkpoints run (tests read it)

	// busyTimeout is unexported so that no configuration can go below the default; tests
	// shorten it through export_test.go.
	busyTimeout time.Duration

	// SkipQuickCheck leaves out Open's integrity check, which reads the whole file (seconds at
	// a million calls), for the commands (cmd's openCommandStore); the daemon keeps it at
	// start and runs it daily.
	SkipQuickCheck bool

	// Now returns the current time. It is read once per transaction and stored as UTC.
	// Defaults to time.Now; tests replace it with a fixed clock.
	Now func() time.Time
}

// NewDB returns a DB for the database file at path. Nothing is opened until Open.
func NewDB(path string) *DB {
	return &DB{path: path, busyTimeout: DefaultBusyTimeout, Now: time.Now}
}

// Path returns the database file path given to NewDB.
func (db *DB) Path() string { return db.path }

// Open creates the folder and file if needed, opens both pools, refuses to continue unless the
// SQLite version, the connection settings and an integrity check (quick_check, which reads the
// whole file) are as required, and applies pending migrations. It is for the commands that
// write; queries use OpenReadOnly.
func (db *DB) Open(ctx context.Context) (err error) {
	if db.path == "" {
		return consent.Errorf(consent.EINVALID, "database path required")
	}
	if db.writer != nil || db.reader != nil {
		return consent.Errorf(consent.EINVALID, "database already open")
	}
	if db.path == ":memory:" {
		return consent.Errorf(consent.EINVALID, "in-memory database refused: decisions must be durable")
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()

	if err := prepareFiles(db.path); err != nil {
		return err
	}
	abs, err := filepath.Abs(db.path)
	if err != nil {
		return fmt.Errorf("open db: %w", err)
	}

	if db.writer, err = sql.Open("sqlite3", db.dsn(abs, false)); err != nil {
		return fmt.Errorf("open db writer: %w", err)
	}
	// One writer connection: Go queues writers, and SQLite never sees two of ours competing
	// for the lock. Idle connections are kept so the -wal and -shm files stay in place.
	db.writer.SetMaxOpenConns(1)
	db.writer.SetConnMaxIdleTime(0)
	db.writer.SetConnMaxLifetime(0)

	if err := checkVersion(ctx, db.writer); err != nil {
		return err
	}
	if err := checkConn(ctx, db.writer, "writer", db.busyTimeout); err != nil {
		return err
	}
	if !db.SkipQuickCheck {
		if err := quickCheck(ctx, db.writer); err != nil {
			return err
		}
	}
	if err := db.migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// The -wal and -shm files exist now (the migration transaction wrote): make them private.
	if err := chmodFiles(db.path); err != nil {
		return err
	}

	// The read pool opens after the writer has switched the file to WAL, which a read-only
	// connection could not do itself.
	if db.reader, err = sql.Open("sqlite3", db.dsn(abs, true)); err != nil {
		return fmt.Errorf("open db reader: %w", err)
	}
	db.reader.SetMaxOpenConns(readConns)
	db.reader.SetMaxIdleConns(readConns)
	if err := checkConn(ctx, db.reader, "reader", db.busyTimeout); err != nil {
		return err
	}
	if err := db.startCheckpointer(ctx, abs); err != nil {
		return err
	}
	db.startCommitter()
	return nil
}

// dsn returns the data source name that gives every new connection of a pool its settings,
// so a connection reopened by database/sql can never run with SQLite's unsafe defaults.
func (db *DB) dsn(abs string, readOnly bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL") // WAL + FULL: a COMMIT is on disk when it returns
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", fmt.Sprint(db.busyTimeout.Milliseconds()))
	q.Set("_secure_delete", "on") // deleted rows are zeroed, not left in free pages
	// Each call runs the same few statements: keep them prepared instead of parsing every time.
	q.Set("_stmt_cache_size", "32")
	if readOnly {
		q.Set("mode", "ro")
		q.Set("_query_only", "on")
	} else {
		q.Set("mode", "rwc")
		q.Set("_txlock", "immediate") // take the write lock at BEGIN: no upgrade deadlocks
	}
	// The path is escaped so that '?', '#' or '%' in a folder name cannot end the file name.
	return "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
}

// Close lets queued writes finish, then closes both pools. The last connection to close
// checkpoints the WAL into the database file. A write or read after Close returns an error
// saying the database is not open.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	var errs []error
	if db.commit != nil {
		db.commit.stop()
		db.commit = nil
	}
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.stop())
		db.ckpt = nil
	}
	if db.reader != nil {
		errs = append(errs, db.reader.Close())
		db.reader = nil
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
		db.writer = nil
	}
	db.readOnly = false
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close db: %w", err)
	}
	return nil
}

// Checkpoint copies the WAL into the database file and truncates the WAL to zero bytes, so
// that a backup of the database file alone is complete.
func (db *DB) Checkpoint(ctx context.Context) error {
	db.mu.RLock()
	w, ro := db.writer, db.readOnly
	db.mu.RUnlock()
	if ro {
		return ErrReadOnly
	} else if w == nil {
		return errNotOpen
	}
	var busy, logFrames, done int
	err := w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", formatError(err))
	} else if busy != 0 {
		return fmt.Errorf("checkpoint: %w", ErrLocked)
	}
	return nil
}

// Tx is what one write sees of the transaction it runs in, which it may share with other
// callers' writes (group commit, batch.go). It wraps the *sql.Tx instead of embedding it, so
// that a write can only run statements: it cannot commit or roll back the transaction for the
// others, and no statement takes a caller's ctx, whose end would interrupt the statement and
// make SQLite roll the whole shared transaction back (see Exec). The time is fixed at the
// transaction's start, so that every row it touches carries the same instant.
type Tx struct {
	tx  *sql.Tx
	now time.Time
}

// update runs fn in an immediate write transaction and commits. Errors are translated into
// consent errors here, at the edge, whatever fn returned. It returns nil only once the write is
// committed; if ctx ends while the write is still queued, it returns an error wrapping
// ctx.Err() and the write is never applied.
func (db *DB) update(ctx context.Context, fn func(tx *Tx) error) error {
	return db.write(ctx, fn, false)
}

// updateLazy is update for a write a crash may lose because something else restores it: it
// commits as update does, but a batch of only such writes commits without its own fsync
// (synchronous=NORMAL for that one transaction). It reaches the disk with the next durable
// commit of any write (an fsync of the WAL covers every frame before it) or the next
// checkpoint. A crash of the process loses nothing (the frames are in the kernel's cache);
// a power cut or a kernel crash before that fsync loses the write whole, never half, and
// leaves every other write intact. Nothing the proof of consent or an erasure needs may go
// through here.
func (db *DB) updateLazy(ctx context.Context, fn func(tx *Tx) error) error {
	return db.write(ctx, fn, true)
}

func (db *DB) write(ctx context.Context, fn func(tx *Tx) error, lazy bool) error {
	db.mu.RLock()
	c := db.commit // read once: Close may clear it as soon as the lock is released
	if c == nil {
		// Only Open's migrations write before the committer starts. The lock is held
		// throughout so that Close cannot close the pool under the transaction.
		defer db.mu.RUnlock()
		return db.updateDirect(ctx, fn)
	}
	op, err := c.enqueue(ctx, fn, lazy)
	db.mu.RUnlock() // before waiting: Close must be able to stop the committer meanwhile
	if err != nil {
		return err
	}
	return c.wait(ctx, op)
}

// updateDirect runs fn in its own transaction on the writer; db.mu is held for reading.
func (db *DB) updateDirect(ctx context.Context, fn func(tx *Tx) error) error {
	if db.readOnly {
		return ErrReadOnly
	} else if db.writer == nil {
		return errNotOpen
	}
	sqlTx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return formatError(fmt.Errorf("begin: %w", err))
	}
	defer sqlTx.Rollback()

	if err := fn(&Tx{tx: sqlTx, now: db.now()}); err != nil {
		return formatError(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return formatError(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// errNotOpen is returned by reads and writes before Open and after Close.
var errNotOpen = consent.Errorf(consent.EINTERNAL, "database not open")

// read returns the pool for queries; reads see every committed write (WAL snapshot per query).
func (db *DB) read() (*sql.DB, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.reader == nil {
		return nil, errNotOpen
	}
	return db.reader, nil
}

func (db *DB) now() time.Time {
	if db.Now == nil {
		return time.Now().UTC()
	}
	return db.Now().UTC()
}
