package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"

	"github.com/callconsent/callconsent/consent"
)

// checkNewRecording refuses a recording Grant cannot store, before the write is queued.
func checkNewRecording(r *consent.Recording) error {
	switch {
	case r == nil:
		return consent.Errorf(consent.EINVALID, "recording required")
	case !consent.ValidUUID(r.CallUUID):
		return consent.Errorf(consent.EINVALID, "recording call uuid is not a uuid")
	case r.Path == "" || !filepath.IsAbs(r.Path):
		return consent.Errorf(consent.EINVALID, "recording path must be absolute")
	case r.State != "" && r.State != consent.RecordingPending:
		return consent.Errorf(consent.EINVALID, "a new recording starts pending, not %s", r.State)
	case r.DurationMS < 0 || r.Bytes < 0:
		return consent.Errorf(consent.EINVALID, "recording duration and size must not be negative")
	}
	return nil
}

// createRecordingTx inserts a pending recording, inside Grant's transaction. It reads the call
// again and refuses with ECONFLICT unless the decision is granted and not withdrawn; the
// schema's trigger refuses the same should this check ever be bypassed. A zero StartedAt means
// now.
func createRecordingTx(tx *Tx, r *consent.Recording) error {
	var decision consent.Decision
	var withdrawn sql.NullString
	err := tx.QueryRow(`SELECT decision, withdrawn_at FROM calls WHERE uuid = ?`, r.CallUUID).
		Scan(&decision, &withdrawn)
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Errorf(consent.ENOTFOUND, "call %s not found", r.CallUUID)
	} else if err != nil {
		return err
	} else if decision != consent.DecisionGranted {
		return consent.Errorf(consent.ECONFLICT, "call %s has decision %s: no recording without a stored grant", r.CallUUID, decision)
	} else if withdrawn.Valid {
		return consent.Errorf(consent.ECONFLICT, "call %s: consent was withdrawn", r.CallUUID)
	}

	if r.StartedAt.IsZero() {
		r.StartedAt = tx.now
	}
	_, err = tx.Exec(`
		INSERT INTO recordings (call_uuid, path, state, started_at, ended_at, duration_ms, bytes)
		VALUES (?, ?, 'pending', ?, ?, ?, ?)`,
		r.CallUUID, r.Path, formatTime(r.StartedAt), formatTime(r.EndedAt), r.DurationMS, r.Bytes)
	if err != nil {
		return err
	}
	r.State = consent.RecordingPending
	return nil
}

// UpdateRecording moves a call's recording to a new state, setting the non-zero fields of u,
// after checking the transition against the state read in the same transaction. The move to
// deleted is refused here: it needs its tombstone, which FinishDeletions writes.
func (db *DB) UpdateRecording(ctx context.Context, callUUID string, to consent.RecordingState, u consent.RecordingUpdate) error {
	if to == consent.RecordingDeleted {
		return consent.Errorf(consent.EINVALID, "a recording becomes deleted only with its tombstone (FinishDeletions)")
	} else if u.DurationMS < 0 || u.Bytes < 0 {
		return consent.Errorf(consent.EINVALID, "recording duration and size must not be negative")
	}
	return db.update(ctx, func(tx *Tx) error {
		rec, err := findRecordingTx(tx, `call_uuid = ?`, callUUID)
		if err != nil {
			return err
		} else if rec == nil {
			return consent.Errorf(consent.ENOTFOUND, "call %s has no recording", callUUID)
		}
		if err := consent.CheckRecordingTransition(rec.State, to); err != nil {
			return err
		}
		if !u.EndedAt.IsZero() {
			rec.EndedAt = u.EndedAt
		}
		if u.DurationMS != 0 {
			rec.DurationMS = u.DurationMS
		}
		if u.Bytes != 0 {
			rec.Bytes = u.Bytes
		}
		_, err = tx.Exec(`
			UPDATE recordings SET state = ?, ended_at = ?, duration_ms = ?, bytes = ?
			WHERE call_uuid = ?`,
			to, formatTime(rec.EndedAt), rec.DurationMS, rec.Bytes, callUUID)
		return err
	})
}

// findRecordingTx reads one recording inside a write transaction, nil when there is none.
func findRecordingTx(tx *Tx, where string, arg any) (*consent.Recording, error) {
	var r recordingRow
	err := tx.QueryRow(`SELECT `+recordingColumns+` FROM recordings r WHERE `+where, arg).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return r.recording()
}

// FindRecordings returns the recordings matching f, oldest first, so that a retention sweep
// with a limit works through the backlog in order.
func (db *DB) FindRecordings(ctx context.Context, f consent.RecordingFilter) ([]*consent.Recording, error) {
	from := `recordings r`
	where, args := []string{"1 = 1"}, []any{}
	if f.CallUUID != "" {
		where, args = append(where, "r.call_uuid = ?"), append(args, f.CallUUID)
	}
	if f.CallerPseudonym != "" {
		from = `recordings r JOIN calls c ON c.uuid = r.call_uuid`
		where, args = append(where, "c.caller_pseudonym = ?"), append(args, f.CallerPseudonym)
	}
	if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		for i, s := range f.States {
			if !s.Valid() {
				return nil, consent.Errorf(consent.EINVALID, "unknown recording state %q", s)
			}
			marks[i], args = "?", append(args, s)
		}
		where = append(where, "r.state IN ("+strings.Join(marks, ", ")+")")
	}
	if !f.StartedBefore.IsZero() {
		where, args = append(where, "r.started_at < ?"), append(args, formatTime(f.StartedBefore))
	}

	rd, err := db.read()
	if err != nil {
		return nil, err
	}
	rows, err := rd.QueryContext(ctx, `SELECT `+recordingColumns+` FROM `+from+`
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY r.started_at, r.call_uuid`+limitOffset(f.Limit, 0), args...)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()

	recs := []*consent.Recording{}
	for rows.Next() {
		var r recordingRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		rec, err := r.recording()
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, formatError(rows.Err())
}
