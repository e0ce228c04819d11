package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The exported transaction API below lets other stores share this database file and its one
// writer (access/sqlite keeps users, grants and the audit log here): one file to back up, one
// group-commit writer, and a change of access committed in the same transaction as its audit
// entry. Only this package imports the driver; errors come back translated (consent codes).

// Update runs fn in a write transaction, possibly shared with other writes (group commit),
// inside its own savepoint; it returns nil only once the write is committed to disk.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error { return db.update(ctx, fn) }

// View runs fn in a read transaction on the read pool: one consistent snapshot.
func (db *DB) View(ctx context.Context, fn func(tx *sql.Tx) error) error {
	r, err := db.read()
	if err != nil {
		return err
	}
	tx, err := r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return formatError(fmt.Errorf("begin read: %w", err))
	}
	defer tx.Rollback()
	return formatError(fn(tx))
}

// Reader returns the read pool, for queries that stream many rows (QueryContext).
func (db *DB) Reader() (*sql.DB, error) { return db.read() }

// TranslateError turns a driver error into a consent error (see formatError); other errors pass.
func TranslateError(err error) error { return formatError(err) }

// Now is the transaction's time, fixed at its start, in UTC.
func (tx *Tx) Now() time.Time { return tx.now }

// TimeFormat is how this database stores times: RFC 3339, UTC, nine fractional digits, so that
// string order is time order.
const TimeFormat = timeFormat
