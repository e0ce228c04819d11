package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// CreateCall inserts a new call with decision pending. A call UUID stored before is refused
// with ECONFLICT: FreeSWITCH never reuses one, so a duplicate is a bug or a replay.
func (db *DB) CreateCall(ctx context.Context, c *consent.Call) error {
	if c == nil {
		return consent.Errorf(consent.EINVALID, "call required")
	} else if err := c.Validate(); err != nil {
		return err
	} else if c.Decision != "" && c.Decision != consent.DecisionPending {
		return consent.Errorf(consent.EINVALID, "a new call starts pending, not %s", c.Decision)
	} else if err := checkPseudonym("caller", c.CallerPseudonym); err != nil {
		return err
	}

	err := db.update(ctx, func(tx *Tx) error {
		// agent_pseudonym (migration 001) keeps its default '': nothing captures the employee
		// yet. Dropping the column would cost a table rebuild for no gain.
		_, err := tx.Exec(`
			INSERT INTO calls (uuid, caller_pseudonym, language, started_at, decision)
			VALUES (?, ?, ?, ?, 'pending')`,
			c.UUID, c.CallerPseudonym, c.Language, formatTime(c.StartedAt))
		return err
	})
	if consent.ErrorCode(err) == consent.ECONFLICT {
		return consent.Errorf(consent.ECONFLICT, "call %s already exists", c.UUID)
	} else if err != nil {
		return err
	}
	c.Decision = consent.DecisionPending
	return nil
}

// checkPseudonym refuses a value that is a phone number. Pseudonyms are hex HMACs or
// consent.AnonymousPseudonym; a bug that passes the raw number must fail loudly instead of
// writing a caller's number into the database (R-PSEUDO-1). The value is not echoed.
func checkPseudonym(who, s string) error {
	if _, isNumber := consent.NormalizeNumber(s); isNumber && s != "" {
		return consent.Errorf(consent.EINVALID, "%s pseudonym looks like a phone number: pseudonymise it first", who)
	}
	return nil
}

// DecideCall stores the decision and its proof on a pending call. A grant without proof is
// refused: R-CONSENT-4 requires the evidence with the decision. A zero p.DecidedAt is set to
// the transaction's time.
func (db *DB) DecideCall(ctx context.Context, callUUID string, d consent.Decision, p *consent.Proof) error {
	if err := checkDecision(callUUID, d, p); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error { return decideTx(tx, callUUID, d, p) })
}

// Grant stores a grant with its proof and the call's pending recording in one transaction:
// a single durable commit stands between the caller's key and record_session.
func (db *DB) Grant(ctx context.Context, callUUID string, p *consent.Proof, r *consent.Recording) error {
	if err := checkDecision(callUUID, consent.DecisionGranted, p); err != nil {
		return err
	} else if err := checkNewRecording(r); err != nil {
		return err
	} else if r.CallUUID != callUUID {
		return consent.Errorf(consent.EINVALID, "recording belongs to another call")
	}
	return db.update(ctx, func(tx *Tx) error {
		if err := decideTx(tx, callUUID, consent.DecisionGranted, p); err != nil {
			return err
		}
		return createRecordingTx(tx, r)
	})
}

func checkDecision(callUUID string, d consent.Decision, p *consent.Proof) error {
	if !consent.ValidUUID(callUUID) {
		return consent.Errorf(consent.EINVALID, "call uuid is not a uuid")
	} else if d == consent.DecisionGranted && p == nil {
		return consent.Errorf(consent.EINVALID, "a grant needs its proof")
	} else if p != nil && p.Tries < 0 {
		return consent.Errorf(consent.EINVALID, "proof tries must not be negative")
	}
	return nil
}

func decideTx(tx *Tx, callUUID string, d consent.Decision, p *consent.Proof) error {
	var from consent.Decision
	err := tx.QueryRow(`SELECT decision FROM calls WHERE uuid = ?`, callUUID).Scan(&from)
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Errorf(consent.ENOTFOUND, "call %s not found", callUUID)
	} else if err != nil {
		return err
	}
	if err := consent.CheckDecisionTransition(from, d); err != nil {
		return err
	}

	var decidedAt, digit, version, sha, lang any
	var tries, heard any
	if p != nil {
		if p.DecidedAt.IsZero() {
			p.DecidedAt = tx.now
		}
		if p.HeardMS < 0 {
			return consent.Errorf(consent.EINVALID, "proof of call %s: heard %d ms", callUUID, p.HeardMS)
		}
		decidedAt, digit, tries, heard = formatTime(p.DecidedAt), p.Digit, p.Tries, p.HeardMS
		version, sha, lang = p.NoticeVersion, p.NoticeSHA256, p.Language
	}
	_, err = tx.Exec(`
		UPDATE calls SET decision = ?, decided_at = ?, digit = ?, tries = ?,
			notice_version = ?, notice_sha256 = ?, proof_language = ?, heard_ms = ?
		WHERE uuid = ?`,
		d, decidedAt, digit, tries, version, sha, lang, heard, callUUID)
	return err
}

// EndCall stamps the end of a call. The first end time wins, so a late duplicate hangup event
// cannot move it. A zero endedAt means now.
func (db *DB) EndCall(ctx context.Context, callUUID string, endedAt time.Time) error {
	return db.update(ctx, func(tx *Tx) error { return endCallTx(tx, callUUID, endedAt) })
}

// endCallTx stamps the end of a call unless it has one; a zero endedAt means the
// transaction's time.
func endCallTx(tx *Tx, callUUID string, endedAt time.Time) error {
	if endedAt.IsZero() {
		endedAt = tx.now
	}
	res, err := tx.Exec(`UPDATE calls SET ended_at = COALESCE(ended_at, ?) WHERE uuid = ?`,
		formatTime(endedAt), callUUID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return consent.Errorf(consent.ENOTFOUND, "call %s not found", callUUID)
	}
	return nil
}

// Withdraw marks consent for a call as withdrawn and moves its recording, unless already
// deleting or deleted, to deleting, in one transaction: there is no moment in which the
// withdrawal is stored but the audio is not marked for deletion. It returns the recording as
// it is afterwards, or nil when the call has none.
func (db *DB) Withdraw(ctx context.Context, w consent.Withdrawal) (*consent.Recording, error) {
	if !consent.ValidUUID(w.CallUUID) {
		return nil, consent.Errorf(consent.EINVALID, "call uuid is not a uuid")
	}
	var rec *consent.Recording
	err := db.update(ctx, func(tx *Tx) error {
		at := w.At
		if at.IsZero() {
			at = tx.now
		}
		res, err := tx.Exec(`
			UPDATE calls SET withdrawn_at = COALESCE(withdrawn_at, ?),
				withdrawal_reason = CASE WHEN withdrawn_at IS NULL THEN ? ELSE withdrawal_reason END
			WHERE uuid = ?`,
			formatTime(at), strings.TrimSpace(w.Reason), w.CallUUID)
		if err != nil {
			return err
		} else if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return consent.Errorf(consent.ENOTFOUND, "call %s not found", w.CallUUID)
		}

		if rec, err = findRecordingTx(tx, `call_uuid = ?`, w.CallUUID); err != nil || rec == nil {
			return err
		}
		if rec.State == consent.RecordingDeleting || rec.State == consent.RecordingDeleted {
			return nil
		}
		if err := consent.CheckRecordingTransition(rec.State, consent.RecordingDeleting); err != nil {
			return err
		}
		rec.State = consent.RecordingDeleting
		_, err = tx.Exec(`UPDATE recordings SET state = ? WHERE call_uuid = ?`, rec.State, rec.CallUUID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}
