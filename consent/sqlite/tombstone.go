package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// FinishDeletion records that a file is gone. When the file belongs to a recording row (found
// by path, else by call UUID), the row must be deleting: it moves to deleted and the tombstone
// is written in the same transaction, so a crash leaves either both or neither. For a file
// without a row (an orphan) only the tombstone is written; its call UUID may be empty.
// Missing path, call UUID or bytes on t are taken from the row; a zero DeletedAt means now.
func (db *DB) FinishDeletion(ctx context.Context, t consent.Tombstone) error {
	if t.CallUUID != "" && !consent.ValidUUID(t.CallUUID) {
		return consent.Errorf(consent.EINVALID, "tombstone call uuid is not a uuid")
	} else if t.CallUUID == "" && t.Path == "" {
		return consent.Errorf(consent.EINVALID, "tombstone needs a call uuid or a path")
	} else if t.Bytes < 0 {
		return consent.Errorf(consent.EINVALID, "tombstone bytes must not be negative")
	}

	return db.update(ctx, func(tx *Tx) error {
		if t.DeletedAt.IsZero() {
			t.DeletedAt = tx.now
		}
		var rec *consent.Recording
		var err error
		if t.Path != "" {
			rec, err = findRecordingTx(tx, `path = ?`, t.Path)
		} else {
			rec, err = findRecordingTx(tx, `call_uuid = ?`, t.CallUUID)
		}
		if err != nil {
			return err
		}

		if rec != nil {
			if t.CallUUID != "" && t.CallUUID != rec.CallUUID {
				return consent.Errorf(consent.EINVALID, "path belongs to the recording of another call")
			}
			if err := consent.CheckRecordingTransition(rec.State, consent.RecordingDeleted); err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE recordings SET state = 'deleted' WHERE call_uuid = ?`, rec.CallUUID); err != nil {
				return err
			}
			t.CallUUID, t.Path = rec.CallUUID, rec.Path
			if t.Bytes == 0 {
				t.Bytes = rec.Bytes
			}
		} else if t.Path == "" {
			return consent.Errorf(consent.ENOTFOUND, "call %s has no recording and no path was given", t.CallUUID)
		}

		var callUUID any // NULL for orphans: there is no call to name
		if t.CallUUID != "" {
			callUUID = t.CallUUID
		}
		_, err = tx.Exec(`
			INSERT INTO tombstones (call_uuid, path, deleted_at, reason, bytes) VALUES (?, ?, ?, ?, ?)`,
			callUUID, t.Path, formatTime(t.DeletedAt), t.Reason, t.Bytes)
		return err
	})
}

// FindTombstones returns the tombstones written at or after since, oldest first.
func (db *DB) FindTombstones(ctx context.Context, since time.Time) ([]*consent.Tombstone, error) {
	rd, err := db.read()
	if err != nil {
		return nil, err
	}
	rows, err := rd.QueryContext(ctx, `
		SELECT call_uuid, path, deleted_at, reason, bytes FROM tombstones
		WHERE deleted_at >= ? ORDER BY deleted_at, id`,
		// The zero time formats as year 0001, before every stored time.
		since.UTC().Format(timeFormat))
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()

	out := []*consent.Tombstone{}
	for rows.Next() {
		var t consent.Tombstone
		var callUUID, deletedAt sql.NullString
		if err := rows.Scan(&callUUID, &t.Path, &deletedAt, &t.Reason, &t.Bytes); err != nil {
			return nil, err
		}
		t.CallUUID = callUUID.String
		if t.DeletedAt, err = parseTime(deletedAt); err != nil {
			return nil, err
		}
		out = append(out, &t)
	}
	return out, formatError(rows.Err())
}
