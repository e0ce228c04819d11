// Package sqlitetest reads what tests must check in a SQLite database of callconsent but no
// production code reads: the tombstones, the audit trail of deleted recordings. It opens the
// file read-only beside the store, so the store keeps no method that only tests call.
package sqlitetest

import (
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	_ "github.com/callconsent/callconsent/consent/sqlite" // registers the "sqlite3" driver
)

// Tombstones returns every tombstone in the database at path, oldest first.
func Tombstones(tb testing.TB, path string) []*consent.Tombstone {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT call_uuid, path, deleted_at, reason, bytes FROM tombstones ORDER BY deleted_at, id`)
	if err != nil {
		tb.Fatalf("read tombstones of %s: %v", path, err)
	}
	defer rows.Close()
	out := []*consent.Tombstone{}
	for rows.Next() {
		var t consent.Tombstone
		var callUUID sql.NullString
		var deletedAt string
		if err := rows.Scan(&callUUID, &t.Path, &deletedAt, &t.Reason, &t.Bytes); err != nil {
			tb.Fatal(err)
		}
		t.CallUUID = callUUID.String
		if t.DeletedAt, err = time.Parse(time.RFC3339Nano, deletedAt); err != nil {
			tb.Fatalf("tombstone of %s: deleted_at %q: %v", t.Path, deletedAt, err)
		}
		out = append(out, &t)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
