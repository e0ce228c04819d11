package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// The queries of the retention sweep. A sweep runs every few minutes against a store that holds
// up to a million recordings, so each query here reads through an index and costs what is due,
// not what is stored (see package retention).

// lookupChunk bounds the number of bound parameters of one IN (...) list, far below SQLite's
// limit, so a lookup of a large orphan scan becomes several short queries.
const lookupChunk = 500

// findDueQuery selects due rows. Each part of the UNION is a range on
// recordings_state_started_at. Withdrawn calls need no part of their own: Withdraw moves the
// recording to deleting in its transaction, and no recording is created after a withdrawal.
const findDueQuery = `
	SELECT ` + callColumns + `, ` + recordingColumns + `
	FROM recordings r JOIN calls c ON c.uuid = r.call_uuid
	WHERE r.rowid IN (
		SELECT rowid FROM recordings
		WHERE state IN ('pending', 'recording', 'complete', 'failed', 'deleting') AND started_at < ?
		UNION
		SELECT rowid FROM recordings WHERE state IN ('failed', 'deleting')
	)
	ORDER BY r.started_at, r.call_uuid`

// FindDue returns the calls whose recordings a sweep may have to delete, each with its
// recording: recordings not yet deleted that started before cutoff, and recordings failed or
// deleting (which includes every withdrawn one) at any age. Oldest first.
// The cost grows with the expired rows, not with the table.
func (db *DB) FindDue(ctx context.Context, cutoff time.Time) ([]*consent.Call, error) {
	rd, err := db.read()
	if err != nil {
		return nil, err
	}
	rows, err := rd.QueryContext(ctx, findDueQuery, formatTime(cutoff))
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	return scanCalls(rows)
}

// FindCallsByUUID returns the calls with the given UUIDs, each with its recording if it has
// one, in no particular order; unknown UUIDs are left out. The sweep asks it about files on disk
// that no due recording explains, to tell audio without a grant from a true orphan.
func (db *DB) FindCallsByUUID(ctx context.Context, uuids []string) ([]*consent.Call, error) {
	rd, err := db.read()
	if err != nil {
		return nil, err
	}
	calls := []*consent.Call{}
	for len(uuids) > 0 {
		chunk := uuids[:min(len(uuids), lookupChunk)]
		uuids = uuids[len(chunk):]
		args := make([]any, len(chunk))
		for i, u := range chunk {
			args[i] = u
		}
		rows, err := rd.QueryContext(ctx, `
			SELECT `+callColumns+`, `+recordingColumns+`
			FROM calls c LEFT JOIN recordings r ON r.call_uuid = c.uuid
			WHERE c.uuid IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, formatError(err)
		}
		for rows.Next() {
			c, err := scanCall(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			calls = append(calls, c)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, formatError(err)
		}
	}
	return calls, nil
}

// CountRecordings returns the number of recordings not yet deleted, the base of the sweep's
// guard against deleting too large a share at once. It counts on the state index.
func (db *DB) CountRecordings(ctx context.Context) (int, error) {
	rd, err := db.read()
	if err != nil {
		return 0, err
	}
	var n int
	err = rd.QueryRowContext(ctx, `SELECT COUNT(*) FROM recordings
		WHERE state IN ('pending', 'recording', 'complete', 'failed', 'deleting')`).Scan(&n)
	return n, formatError(err)
}

// purgeChunk is how many calls one purge transaction deletes: the writer is shared with the
// consent flow, and a caller's decision must not wait behind one huge DELETE.
const purgeChunk = 1000

// PurgeCalls deletes the metadata of calls that started before before and whose recording is
// deleted or never existed: the decision row with its pseudonyms and proof, and the deleted
// recording row by cascade. Tombstones stay: they carry no personal data and prove deletion.
// It returns the number of calls deleted. Run Checkpoint afterwards so the deleted pseudonyms
// do not linger in the WAL.
func (db *DB) PurgeCalls(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.update(ctx, func(tx *Tx) error {
			res, err := tx.Exec(`
				DELETE FROM calls WHERE uuid IN (
					SELECT c.uuid FROM calls c
					WHERE c.started_at < ? AND NOT EXISTS (
						SELECT 1 FROM recordings r WHERE r.call_uuid = c.uuid AND r.state <> 'deleted')
					LIMIT ?)`, formatTime(before), purgeChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}
