package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/callconsent/callconsent/consent"
)

// ErrReadOnly is returned by every write to a DB opened with OpenReadOnly.
var ErrReadOnly = consent.Errorf(consent.EINTERNAL, "database opened read-only: writes refused")

// OpenReadOnly opens an existing database for queries only, for the commands that read
// (`calls`) or promise to change nothing (`sweep --dry-run`, `withdraw --dry-run`). Unlike
// Open it creates no folder or file, applies no migration, changes no file mode, and starts
// neither the committer nor the checkpointer; every write returns ErrReadOnly, and SQLite
// itself refuses them (mode=ro, query_only). Nor does it run the integrity check, which reads
// every page of the file (seconds at a million calls) and is no reason to hold up a query: a
// query that meets a damaged page fails with a "corrupt" error, and the daemon checks the whole
// file at start and on a schedule (QuickCheck). The database file
// and its WAL are never written; SQLite creates an empty -wal and the -shm index that a WAL
// reader needs when they are missing (with the database file's mode). A missing database
// is ENOTFOUND, not a new empty file. The schema must carry exactly the migrations this binary
// knows: on an older one the queries would fail in confusing ways, a newer one is refused as
// by Open.
func (db *DB) OpenReadOnly(ctx context.Context) (err error) {
	switch {
	case db.path == "":
		return consent.Errorf(consent.EINVALID, "database path required")
	case db.path == ":memory:":
		return consent.Errorf(consent.EINVALID, "in-memory database refused")
	case db.writer != nil || db.reader != nil:
		return consent.Errorf(consent.EINVALID, "database already open")
	}
	abs, err := filepath.Abs(db.path)
	if err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	if fi, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
		return consent.Errorf(consent.ENOTFOUND, "database %s does not exist", abs)
	} else if err != nil {
		return fmt.Errorf("open db: %w", err)
	} else if fi.IsDir() {
		return consent.Errorf(consent.EINVALID, "database %s is a folder, not a file: db must name the database file itself", abs)
	} else if !fi.Mode().IsRegular() {
		return consent.Errorf(consent.EINVALID, "database %s is not a regular file: db must name the database file itself", abs)
	}
	if err := checkHeader(abs); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()

	if db.reader, err = sql.Open("sqlite3", db.dsn(abs, true)); err != nil {
		return fmt.Errorf("open db reader: %w", err)
	}
	db.reader.SetMaxOpenConns(readConns)
	db.reader.SetMaxIdleConns(readConns)
	db.readOnly = true
	if err := checkVersion(ctx, db.reader); err != nil {
		return err
	}
	if err := checkConn(ctx, db.reader, "reader", db.busyTimeout); err != nil {
		return err
	}
	return db.checkSchema(ctx)
}

// checkHeader refuses, by the first bytes of the file, one that a read-only connection could
// only misreport: a file that is no SQLite database, or one not in WAL mode (every database
// callconsent makes is), which the connection cannot switch to WAL without writing.
func checkHeader(abs string) error {
	f, err := os.Open(abs)
	if err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	defer f.Close()
	var h [100]byte
	n, err := io.ReadFull(f, h[:])
	switch {
	case n == 0:
		return consent.Errorf(consent.ECONFLICT, "database %s is an empty file, not a database callconsent made: check db", abs)
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("open db: %w", err)
	case n < len(h) || string(h[:16]) != "SQLite format 3\x00":
		return consent.Errorf(consent.ECONFLICT, "database %s is not a SQLite database: check db", abs)
	case h[18] != 2 || h[19] != 2:
		return consent.Errorf(consent.ECONFLICT, "database %s is a SQLite database not in WAL mode, so not one callconsent made (or another tool changed it): check db", abs)
	}
	return nil
}

// checkSchema refuses a database whose applied migrations are not exactly the embedded ones.
func (db *DB) checkSchema(ctx context.Context) error {
	known, err := migrationNames()
	if err != nil {
		return err
	}
	// Asked first, so that a damaged file is reported as damaged, not as a stranger's.
	var tables int
	err = db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'migrations'`).Scan(&tables)
	if err != nil {
		return fmt.Errorf("read schema: %w", formatError(err))
	} else if tables == 0 {
		return consent.Errorf(consent.ECONFLICT, "database %s has no callconsent schema (no migrations table): is it callconsent's database?", db.path)
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT name FROM migrations ORDER BY name`)
	if err != nil {
		return fmt.Errorf("read schema: %w", formatError(err))
	}
	defer rows.Close()
	var applied []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		applied = append(applied, name)
	}
	if err := rows.Err(); err != nil {
		return formatError(err)
	}
	for _, name := range applied {
		if !slices.Contains(known, name) {
			return consent.Errorf(consent.ECONFLICT,
				"database has migration %q that this binary does not know: it was written by a newer callconsent (upgrade callconsent)", name)
		}
	}
	for _, name := range known {
		if !slices.Contains(applied, name) {
			return consent.Errorf(consent.ECONFLICT,
				"database lacks migration %q: it was last opened by an older callconsent; open it once for writing (e.g. start the daemon) to migrate it", name)
		}
	}
	return nil
}
