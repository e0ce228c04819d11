package sqlite

import (
	"context"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// The flow's writes: a call's row is inserted with its decision, and its end with the
// recording's final state, so that a granted call costs two durable commits and any other one:
// the end of a call without a recording commits without an fsync of its own (see FinishCall). Each is one transaction through the committer, so concurrent calls
// still share the fsync.

// StoreDecision inserts a new call with its final decision, proof and (when set) end in one
// commit. A grant stored this way has no recording.
func (db *DB) StoreDecision(ctx context.Context, c *consent.Call) error {
	if err := checkDecidedCall(c); err != nil {
		return err
	}
	err := db.update(ctx, func(tx *Tx) error { return insertDecidedTx(tx, c) })
	return duplicateCall(c, err)
}

// StoreGrant inserts a new call with its grant and proof and its pending recording in one
// commit: the one durable commit between the caller's key and record_session. The recording is
// inserted after the call, so the schema's trigger (recordings_require_grant) checks the grant
// it is stored with.
func (db *DB) StoreGrant(ctx context.Context, c *consent.Call, r *consent.Recording) error {
	if err := checkDecidedCall(c); err != nil {
		return err
	} else if c.Decision != consent.DecisionGranted {
		return consent.Errorf(consent.EINVALID, "a recording needs a grant, not %s", c.Decision)
	} else if err := checkNewRecording(r); err != nil {
		return err
	} else if r.CallUUID != c.UUID {
		return consent.Errorf(consent.EINVALID, "recording belongs to another call")
	}
	err := db.update(ctx, func(tx *Tx) error {
		if err := insertDecidedTx(tx, c); err != nil {
			return err
		}
		return createRecordingTx(tx, r)
	})
	return duplicateCall(c, err)
}

// checkDecidedCall refuses a call StoreDecision or StoreGrant cannot store, before the write is
// queued.
func checkDecidedCall(c *consent.Call) error {
	if c == nil {
		return consent.Errorf(consent.EINVALID, "call required")
	} else if err := c.Validate(); err != nil {
		return err
	} else if !c.Decision.Valid() || !c.Decision.Final() {
		return consent.Errorf(consent.EINVALID, "a call is stored with its final decision, not %q", c.Decision)
	} else if err := checkDecision(c.UUID, c.Decision, c.Proof); err != nil {
		return err
	} else if c.Proof != nil && c.Proof.HeardMS < 0 {
		return consent.Errorf(consent.EINVALID, "proof of call %s: heard %d ms", c.UUID, c.Proof.HeardMS)
	} else if !c.WithdrawnAt.IsZero() {
		return consent.Errorf(consent.EINVALID, "a new call is not withdrawn")
	}
	return checkPseudonym("caller", c.CallerPseudonym)
}

// insertDecidedTx inserts c with its decision, proof and end. A zero proof time is the
// transaction's.
func insertDecidedTx(tx *Tx, c *consent.Call) error {
	var decidedAt, digit, version, sha, lang, tries, heard any
	if p := c.Proof; p != nil {
		if p.DecidedAt.IsZero() {
			p.DecidedAt = tx.now
		}
		decidedAt, digit, tries, heard = formatTime(p.DecidedAt), p.Digit, p.Tries, p.HeardMS
		version, sha, lang = p.NoticeVersion, p.NoticeSHA256, p.Language
	}
	_, err := tx.Exec(`
		INSERT INTO calls (uuid, caller_pseudonym, language, started_at, decision, decided_at, digit,
			tries, notice_version, notice_sha256, proof_language, heard_ms, ended_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.UUID, c.CallerPseudonym, c.Language, formatTime(c.StartedAt), c.Decision, decidedAt, digit,
		tries, version, sha, lang, heard, formatTime(c.EndedAt))
	return err
}

// duplicateCall names the call in a refused duplicate: FreeSWITCH never reuses a UUID, so a
// duplicate is a bug or a replay.
func duplicateCall(c *consent.Call, err error) error {
	if consent.ErrorCode(err) == consent.ECONFLICT {
		return consent.Errorf(consent.ECONFLICT, "call %s already exists", c.UUID)
	}
	return err
}

// FinishCall stamps the end of a call and, with end set, moves its recording to end.State in
// the same commit: recording started, stopped and finalised from the file, all at the hang-up.
// A recording a withdrawal moved on meanwhile is left as it is; the state after the commit is
// returned.
func (db *DB) FinishCall(ctx context.Context, callUUID string, endedAt time.Time, end *consent.RecordingEnd) (consent.RecordingState, error) {
	if !consent.ValidUUID(callUUID) {
		return "", consent.Errorf(consent.EINVALID, "call uuid is not a uuid")
	}
	if end != nil {
		if end.State != consent.RecordingComplete && end.State != consent.RecordingFailed {
			return "", consent.Errorf(consent.EINVALID, "a recording ends complete or failed, not %q", end.State)
		} else if end.DurationMS < 0 || end.Bytes < 0 {
			return "", consent.Errorf(consent.EINVALID, "recording duration and size must not be negative")
		}
	}
	// The end of a call without a recording is all a crash could lose here, and reconcile
	// stamps it again (the calls_unended index finds it): it shares the next durable commit
	// instead of paying an fsync of its own. With a recording it is durable at once.
	write := db.update
	if end == nil {
		write = db.updateLazy
	}
	var state consent.RecordingState
	err := write(ctx, func(tx *Tx) error {
		state = ""
		if err := endCallTx(tx, callUUID, endedAt); err != nil || end == nil {
			return err
		}
		rec, err := findRecordingTx(tx, `call_uuid = ?`, callUUID)
		if err != nil {
			return err
		} else if rec == nil {
			return consent.Errorf(consent.ENOTFOUND, "call %s has no recording", callUUID)
		}
		state = rec.State
		if !rec.State.Live() {
			return nil // withdrawn meanwhile: deleting, and the deletion is not ours to undo
		}
		if end.State == consent.RecordingComplete && rec.State == consent.RecordingPending {
			rec.State = consent.RecordingRecording // a usable file shows that it started
		}
		if err := consent.CheckRecordingTransition(rec.State, end.State); err != nil {
			return err
		}
		if !end.EndedAt.IsZero() {
			rec.EndedAt = end.EndedAt
		}
		if end.DurationMS != 0 {
			rec.DurationMS = end.DurationMS
		}
		if end.Bytes != 0 {
			rec.Bytes = end.Bytes
		}
		_, err = tx.Exec(`
			UPDATE recordings SET state = ?, ended_at = ?, duration_ms = ?, bytes = ?
			WHERE call_uuid = ?`,
			end.State, formatTime(rec.EndedAt), rec.DurationMS, rec.Bytes, callUUID)
		state = end.State
		return err
	})
	if err != nil {
		return "", err
	}
	return state, nil
}
