package sqlite

import "time"

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
