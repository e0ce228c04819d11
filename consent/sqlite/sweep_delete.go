package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/callconsent/callconsent/consent"
)

// The two commits around an unlink (R-RETAIN-4). MarkDeleting is the intent, FinishDeletions the
// proof; the sweeper unlinks and fsyncs the folder between them. Both take a batch in one
// transaction and work on it as a set: the batch is loaded once into a temporary table, and a
// handful of statements join it with the tables through their path indexes. A statement per
// file would cost a round trip through cgo and database/sql each, and a sweep may delete a
// hundred thousand files.

// FindIntents returns the deletions marked but not finished, in path order: what a crash left
// between MarkDeleting and FinishDeletions. DeletedAt is the time of the intent.
func (db *DB) FindIntents(ctx context.Context) ([]consent.Tombstone, error) {
	rd, err := db.read()
	if err != nil {
		return nil, err
	}
	rows, err := rd.QueryContext(ctx, `SELECT path, call_uuid, reason, bytes, created_at
		FROM deletion_intents ORDER BY path`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []consent.Tombstone{}
	for rows.Next() {
		var t consent.Tombstone
		var callUUID, created sql.NullString
		if err := rows.Scan(&t.Path, &callUUID, &t.Reason, &t.Bytes, &created); err != nil {
			return nil, err
		}
		t.CallUUID = callUUID.String
		if t.DeletedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, formatError(rows.Err())
}

// sweepBatchChunk is how many rows one INSERT into the batch table binds (6 parameters each),
// far below SQLite's limit of bound parameters.
const sweepBatchChunk = 500

// The batch table lives in the writer connection's temp database: it is never written to the
// database file or its WAL, and it is part of the transaction, so a rolled back batch leaves
// it as it was. k keeps the order of the caller's slice, and with it the order of tombstones.
// Every statement below names the batch first with CROSS JOIN, which makes SQLite loop over the
// batch and look each path up in the unique index on recordings.path (or the primary key of
// deletion_intents): the cost is the batch's, never the table's (TestSweepStatements_Plan).
const (
	sweepBatchCreate = `CREATE TEMP TABLE IF NOT EXISTS sweep_batch (
		k          INTEGER PRIMARY KEY,
		path       TEXT NOT NULL,
		call_uuid  TEXT,
		reason     TEXT NOT NULL,
		bytes      INTEGER NOT NULL,
		deleted_at TEXT NOT NULL)`
	sweepBatchClear  = `DELETE FROM temp.sweep_batch`
	sweepBatchInsert = `INSERT INTO temp.sweep_batch (k, path, call_uuid, reason, bytes, deleted_at) VALUES `

	// markRefusedQuery finds rows the intent must not touch: the path of another call, or a
	// state that may not move to deleting (the list is filled in from consent's transitions).
	markRefusedQuery = `SELECT r.call_uuid, r.state, b.call_uuid IS NOT r.call_uuid
		FROM temp.sweep_batch b CROSS JOIN recordings r ON r.path = b.path
		WHERE b.call_uuid IS NOT r.call_uuid OR r.state NOT IN (%s)
		ORDER BY b.k LIMIT 1`
	markUpdate = `UPDATE recordings SET state = 'deleting' WHERE rowid IN (
		SELECT r.rowid FROM temp.sweep_batch b CROSS JOIN recordings r ON r.path = b.path
		WHERE r.state NOT IN ('deleting', 'deleted'))`
	// An intent only for a path without a recording row to carry it (an orphan, audio of a
	// call without a grant) or whose row is deleted (a file come back): a row in deleting is
	// the intent itself, and retention.Due names its reason again from the row.
	// WHERE true: without it SQLite would read ON CONFLICT as the ON of a join.
	markInsertIntents = `INSERT INTO deletion_intents (path, call_uuid, reason, bytes, created_at)
		SELECT path, call_uuid, reason, bytes, deleted_at FROM temp.sweep_batch b
		WHERE NOT EXISTS (SELECT 1 FROM recordings r WHERE r.path = b.path AND r.state <> 'deleted')
		ORDER BY k
		ON CONFLICT (path) DO NOTHING`

	finishConflictQuery = `SELECT r.call_uuid, r.state
		FROM temp.sweep_batch b CROSS JOIN recordings r ON r.path = b.path
		WHERE r.state NOT IN ('deleting', 'deleted')
		ORDER BY b.k LIMIT 1`
	// A tombstone for a row in deleting, and for a path without a row that has an intent; a row
	// in deleted, or neither row nor intent, was finished before. The row's call and size win
	// over the caller's, but a size the caller measured on disk wins over the row's.
	finishInsertTombstones = `INSERT INTO tombstones (call_uuid, path, deleted_at, reason, bytes)
		SELECT coalesce(r.call_uuid, b.call_uuid), b.path, b.deleted_at, b.reason,
			CASE WHEN r.call_uuid IS NOT NULL AND b.bytes = 0 THEN r.bytes ELSE b.bytes END
		FROM temp.sweep_batch b
			LEFT JOIN recordings r ON r.path = b.path
			LEFT JOIN deletion_intents i ON i.path = b.path
		WHERE r.state = 'deleting' OR (r.call_uuid IS NULL AND i.path IS NOT NULL)
		ORDER BY b.k`
	finishUpdate = `UPDATE recordings SET state = 'deleted' WHERE rowid IN (
		SELECT r.rowid FROM temp.sweep_batch b CROSS JOIN recordings r ON r.path = b.path
		WHERE r.state = 'deleting')`
	finishDeleteIntents = `DELETE FROM deletion_intents WHERE path IN (SELECT path FROM temp.sweep_batch)`
)

// markRefused is markRefusedQuery with the states that may move to deleting, and deleting and
// deleted themselves (their rows keep their state).
var markRefused = func() string {
	ok := []string{`'deleting'`, `'deleted'`}
	for _, s := range []consent.RecordingState{consent.RecordingPending, consent.RecordingRecording,
		consent.RecordingComplete, consent.RecordingFailed} {
		if consent.CheckRecordingTransition(s, consent.RecordingDeleting) == nil {
			ok = append(ok, `'`+string(s)+`'`)
		}
	}
	return strings.Replace(markRefusedQuery, "%s", strings.Join(ok, ", "), 1)
}()

// loadBatch replaces the content of the batch table with ts, in order.
func loadBatch(tx *Tx, ts []consent.Tombstone) error {
	if _, err := tx.Exec(sweepBatchCreate); err != nil {
		return err
	}
	if _, err := tx.Exec(sweepBatchClear); err != nil {
		return err
	}
	args := make([]any, 0, 6*min(len(ts), sweepBatchChunk))
	for start := 0; start < len(ts); start += sweepBatchChunk {
		chunk := ts[start:min(len(ts), start+sweepBatchChunk)]
		args = args[:0]
		for i, t := range chunk {
			args = append(args, start+i, t.Path, nullable(t.CallUUID), t.Reason, t.Bytes, formatTime(t.DeletedAt))
		}
		// Every whole chunk has the same text, so the driver's statement cache prepares it once.
		query := sweepBatchInsert + "(?, ?, ?, ?, ?, ?)" + strings.Repeat(", (?, ?, ?, ?, ?, ?)", len(chunk)-1)
		if _, err := tx.Exec(query, args...); err != nil {
			return err
		}
	}
	return nil
}

// nullable returns s, or SQL NULL for "": orphans have no call to name.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// MarkDeleting commits the intent to delete each file in one transaction: a recording row at
// the path moves to deleting (unless it is deleting or deleted already), which is the intent;
// a path without such a row gets an intent row with the reason. A row that is deleted keeps its state: its file is unlinked again (it came
// back from a backup, or another sweep got there first) and FinishDeletions writes no second
// tombstone. It returns what was marked; only those files may be unlinked.
func (db *DB) MarkDeleting(ctx context.Context, ts []consent.Tombstone) ([]consent.Tombstone, error) {
	for _, t := range ts {
		if t.Path == "" || (t.CallUUID != "" && !consent.ValidUUID(t.CallUUID)) || t.Bytes < 0 {
			return nil, consent.Errorf(consent.EINVALID, "deletion intent needs a path, a valid call uuid or none, and bytes >= 0")
		}
	}
	if len(ts) == 0 {
		return ts, nil
	}
	err := db.update(ctx, func(tx *Tx) error {
		// The intent's time is the transaction's, whatever the caller put in DeletedAt.
		batch := make([]consent.Tombstone, len(ts))
		for i, t := range ts {
			t.DeletedAt = tx.now
			batch[i] = t
		}
		if err := loadBatch(tx, batch); err != nil {
			return err
		}
		defer tx.Exec(sweepBatchClear)
		var callUUID string
		var state consent.RecordingState
		var otherCall bool
		err := tx.QueryRow(markRefused).Scan(&callUUID, &state, &otherCall)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return err
		case otherCall:
			return consent.Errorf(consent.EINVALID, "path belongs to the recording of another call")
		default:
			if err := consent.CheckRecordingTransition(state, consent.RecordingDeleting); err != nil {
				return err
			}
			return consent.Errorf(consent.EINTERNAL, "bug: recording of call %s in %s refused for deleting", callUUID, state)
		}
		if _, err := tx.Exec(markUpdate); err != nil {
			return err
		}
		_, err = tx.Exec(markInsertIntents)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ts, nil
}

// FinishDeletions records, in one transaction, that the files are gone: a recording row in
// deleting becomes deleted, a tombstone is written, and the intent is removed. It is idempotent:
// a file whose row is deleted already, or which has neither a row nor an intent (another sweep
// finished it), gets no second tombstone; nor does a path named twice. It returns the number
// of tombstones written.
func (db *DB) FinishDeletions(ctx context.Context, ts []consent.Tombstone) (int, error) {
	if len(ts) == 0 {
		return 0, nil
	}
	var n int
	err := db.update(ctx, func(tx *Tx) error {
		n = 0
		batch := make([]consent.Tombstone, 0, len(ts))
		seen := make(map[string]bool, len(ts))
		for _, t := range ts {
			if seen[t.Path] {
				continue // the first one finished it
			}
			seen[t.Path] = true
			if t.DeletedAt.IsZero() {
				t.DeletedAt = tx.now
			}
			batch = append(batch, t)
		}
		if err := loadBatch(tx, batch); err != nil {
			return err
		}
		defer tx.Exec(sweepBatchClear)
		var callUUID string
		var state consent.RecordingState
		err := tx.QueryRow(finishConflictQuery).Scan(&callUUID, &state)
		if err == nil {
			return consent.Errorf(consent.ECONFLICT, "recording of call %s is %s, not deleting", callUUID, state)
		} else if err != sql.ErrNoRows {
			return err
		}
		res, err := tx.Exec(finishInsertTombstones)
		if err != nil {
			return err
		}
		written, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(finishUpdate); err != nil {
			return err
		}
		if _, err := tx.Exec(finishDeleteIntents); err != nil {
			return err
		}
		n = int(written)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
