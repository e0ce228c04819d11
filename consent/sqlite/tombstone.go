package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/callconsent/callconsent/consent"
)

var _ consent.SubjectFinder = (*DB)(nil)

// tombstoneChunk is how many call UUIDs one query asks about: SQLite bounds the parameters of
// a statement, and a caller may have many calls.
const tombstoneChunk = 500

// FindTombstones returns the tombstones of the given calls, oldest first (index
// tombstones_call_uuid), for a caller's access archive.
func (db *DB) FindTombstones(ctx context.Context, callUUIDs []string) ([]*consent.Tombstone, error) {
	rd, err := db.read()
	if err != nil {
		return nil, err
	}
	out := []*consent.Tombstone{}
	for len(callUUIDs) > 0 {
		chunk := callUUIDs[:min(len(callUUIDs), tombstoneChunk)]
		callUUIDs = callUUIDs[len(chunk):]
		args := make([]any, len(chunk))
		for i, u := range chunk {
			args[i] = u
		}
		rows, err := rd.QueryContext(ctx, `SELECT call_uuid, path, deleted_at, reason, bytes FROM tombstones
			WHERE call_uuid IN (?`+strings.Repeat(", ?", len(chunk)-1)+`) ORDER BY deleted_at, id`, args...)
		if err != nil {
			return nil, formatError(err)
		}
		if out, err = scanTombstones(rows, out); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b *consent.Tombstone) int { return a.DeletedAt.Compare(b.DeletedAt) })
	return out, nil
}

// scanTombstones appends the tombstones of rows to out and closes rows.
func scanTombstones(rows *sql.Rows, out []*consent.Tombstone) ([]*consent.Tombstone, error) {
	defer rows.Close()
	for rows.Next() {
		var t consent.Tombstone
		var callUUID, deletedAt sql.NullString
		if err := rows.Scan(&callUUID, &t.Path, &deletedAt, &t.Reason, &t.Bytes); err != nil {
			return nil, formatError(err)
		}
		var ts timeScanner
		t.CallUUID, t.DeletedAt = callUUID.String, ts.parse(deletedAt)
		if ts.err != nil {
			return nil, ts.err
		}
		out = append(out, &t)
	}
	return out, formatError(rows.Err())
}
