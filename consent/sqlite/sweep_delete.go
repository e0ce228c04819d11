package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/callconsent/callconsent/consent"
)

// The two commits around an unlink (R-RETAIN-4). MarkDeleting is the intent, FinishDeletions the
// proof; the sweeper unlinks and fsyncs the folder between them. Both take a batch in one
// transaction with prepared statements, because a commit costs an fsync, parsing SQL costs more
// than running it, and a sweep may delete a hundred thousand files.

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

// sweepStmts are the statements of one batch, prepared once per transaction.
type sweepStmts struct {
	find, setState, addIntent, delIntent, addTombstone *sql.Stmt
}

func prepareSweep(ctx context.Context, tx *Tx) (*sweepStmts, error) {
	var s sweepStmts
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&s.find, `SELECT call_uuid, state, bytes FROM recordings WHERE path = ?`},
		{&s.setState, `UPDATE recordings SET state = ? WHERE call_uuid = ?`},
		{&s.addIntent, `INSERT INTO deletion_intents (path, call_uuid, reason, bytes, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO NOTHING`},
		{&s.delIntent, `DELETE FROM deletion_intents WHERE path = ?`},
		{&s.addTombstone, `INSERT INTO tombstones (call_uuid, path, deleted_at, reason, bytes) VALUES (?, ?, ?, ?, ?)`},
	} {
		st, err := tx.PrepareContext(ctx, p.query)
		if err != nil {
			s.close()
			return nil, err
		}
		*p.dst = st
	}
	return &s, nil
}

func (s *sweepStmts) close() {
	for _, st := range []*sql.Stmt{s.find, s.setState, s.addIntent, s.delIntent, s.addTombstone} {
		if st != nil {
			st.Close()
		}
	}
}

// findByPath returns the recording row at path: its call, state and bytes; ok false if none.
func (s *sweepStmts) findByPath(ctx context.Context, path string) (callUUID string, state consent.RecordingState, bytes int64, ok bool, err error) {
	err = s.find.QueryRowContext(ctx, path).Scan(&callUUID, &state, &bytes)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", 0, false, nil
	}
	return callUUID, state, bytes, err == nil, err
}

// nullable returns s, or SQL NULL for "": orphans have no call to name.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// MarkDeleting commits the intent to delete each file in one transaction: a recording row at
// the path moves to deleting (unless it is deleting or deleted already) and an intent with the
// reason is stored. A row that is deleted keeps its state: its file is unlinked again (it came
// back from a backup, or another sweep got there first) and FinishDeletions writes no second
// tombstone. It returns what was marked; only those files may be unlinked.
func (db *DB) MarkDeleting(ctx context.Context, ts []consent.Tombstone) ([]consent.Tombstone, error) {
	for _, t := range ts {
		if t.Path == "" || (t.CallUUID != "" && !consent.ValidUUID(t.CallUUID)) || t.Bytes < 0 {
			return nil, consent.Errorf(consent.EINVALID, "deletion intent needs a path, a valid call uuid or none, and bytes >= 0")
		}
	}
	err := db.update(ctx, func(tx *Tx) error {
		st, err := prepareSweep(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		for _, t := range ts {
			callUUID, state, _, ok, err := st.findByPath(ctx, t.Path)
			if err != nil {
				return err
			}
			if ok {
				if t.CallUUID != callUUID {
					return consent.Errorf(consent.EINVALID, "path belongs to the recording of another call")
				}
				if state != consent.RecordingDeleted && state != consent.RecordingDeleting {
					if err := consent.CheckRecordingTransition(state, consent.RecordingDeleting); err != nil {
						return err
					}
					if _, err := st.setState.ExecContext(ctx, consent.RecordingDeleting, callUUID); err != nil {
						return err
					}
				}
			}
			if _, err := st.addIntent.ExecContext(ctx, t.Path, nullable(t.CallUUID), t.Reason, t.Bytes, formatTime(tx.now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ts, nil
}

// FinishDeletions records, in one transaction, that the files are gone: a recording row in
// deleting becomes deleted, a tombstone is written, and the intent is removed. It is idempotent:
// a file whose row is deleted already, or which has neither a row nor an intent (another sweep
// finished it), gets no second tombstone. It returns the number of tombstones written.
func (db *DB) FinishDeletions(ctx context.Context, ts []consent.Tombstone) (int, error) {
	var n int
	err := db.update(ctx, func(tx *Tx) error {
		n = 0
		st, err := prepareSweep(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		for _, t := range ts {
			if t.DeletedAt.IsZero() {
				t.DeletedAt = tx.now
			}
			callUUID, state, bytes, ok, err := st.findByPath(ctx, t.Path)
			if err != nil {
				return err
			}
			res, err := st.delIntent.ExecContext(ctx, t.Path)
			if err != nil {
				return err
			}
			hadIntent, err := res.RowsAffected()
			if err != nil {
				return err
			}
			switch {
			case ok && state == consent.RecordingDeleting:
				if _, err := st.setState.ExecContext(ctx, consent.RecordingDeleted, callUUID); err != nil {
					return err
				}
				t.CallUUID = callUUID
				if t.Bytes == 0 {
					t.Bytes = bytes
				}
			case ok && state == consent.RecordingDeleted, !ok && hadIntent == 0:
				continue // finished before: the tombstone exists
			case ok:
				return consent.Errorf(consent.ECONFLICT, "recording of call %s is %s, not deleting", callUUID, state)
			}
			if _, err := st.addTombstone.ExecContext(ctx, nullable(t.CallUUID), t.Path, formatTime(t.DeletedAt), t.Reason, t.Bytes); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
