package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/callconsent/callconsent/consent"
)

// FindCall returns a call with its recording, or an ENOTFOUND error.
func (db *DB) FindCall(ctx context.Context, callUUID string) (*consent.Call, error) {
	if callUUID == "" {
		return nil, consent.Errorf(consent.EINVALID, "call uuid required")
	}
	calls, err := db.FindCalls(ctx, consent.CallFilter{UUID: callUUID, Limit: 1})
	if err != nil {
		return nil, err
	} else if len(calls) == 0 {
		return nil, consent.Errorf(consent.ENOTFOUND, "call %s not found", callUUID)
	}
	return calls[0], nil
}

// callColumns and recordingColumns are selected in the order scanCall and scanRecording read
// them.
const (
	callColumns = `c.uuid, c.caller_pseudonym, c.language, c.started_at,
		c.decision, c.decided_at, c.digit, c.tries, c.notice_version, c.notice_sha256,
		c.proof_language, c.heard_ms, c.ended_at, c.withdrawn_at, c.withdrawal_reason`
	recordingColumns = `r.call_uuid, r.path, r.state, r.started_at, r.ended_at, r.duration_ms, r.bytes`
)

// FindCalls returns the calls matching f, newest first, each with its recording, in one query
// (LEFT JOIN): listing a day of calls must not cost a query per call.
func (db *DB) FindCalls(ctx context.Context, f consent.CallFilter) ([]*consent.Call, error) {
	if f.Decision != "" && !f.Decision.Valid() {
		return nil, consent.Errorf(consent.EINVALID, "unknown decision %q", f.Decision)
	}
	where, args := []string{"1 = 1"}, []any{}
	if f.UUID != "" {
		where, args = append(where, "c.uuid = ?"), append(args, f.UUID)
	}
	if f.CallerPseudonym != "" {
		where, args = append(where, "c.caller_pseudonym = ?"), append(args, f.CallerPseudonym)
	}
	if f.Decision != "" {
		where, args = append(where, "c.decision = ?"), append(args, f.Decision)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "c.started_at >= ?"), append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "c.started_at < ?"), append(args, formatTime(f.Until))
	}
	if f.Unended {
		where = append(where, "c.ended_at IS NULL") // index calls_unended
	}
	switch {
	case f.Recording == consent.RecordingNone:
		where = append(where, "r.call_uuid IS NULL")
	case f.Recording != "" && !f.Recording.Valid():
		return nil, consent.Errorf(consent.EINVALID, "unknown recording state %q", f.Recording)
	case f.Recording != "":
		where, args = append(where, "r.state = ?"), append(args, string(f.Recording))
	}

	rd, err := db.read()
	if err != nil {
		return nil, err
	}
	rows, err := rd.QueryContext(ctx, `
		SELECT `+callColumns+`, `+recordingColumns+`
		FROM calls c LEFT JOIN recordings r ON r.call_uuid = c.uuid
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY c.started_at DESC, c.uuid DESC`+limitOffset(f.Limit, f.Offset),
		args...)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()

	return scanCalls(rows)
}

// scanCalls reads every row of rows with scanCall; an empty result is an empty slice, so that
// JSON output is [] rather than null.
func scanCalls(rows *sql.Rows) ([]*consent.Call, error) {
	calls := []*consent.Call{}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
	}
	return calls, formatError(rows.Err())
}

// scanCall reads callColumns followed by recordingColumns (all NULL without a recording).
func scanCall(rows *sql.Rows) (*consent.Call, error) {
	var c consent.Call
	var started, decidedAt, ended, withdrawn sql.NullString
	var digit, version, sha, lang, reason sql.NullString
	var tries, heard sql.NullInt64
	var r recordingRow
	if err := rows.Scan(&c.UUID, &c.CallerPseudonym, &c.Language, &started,
		&c.Decision, &decidedAt, &digit, &tries, &version, &sha, &lang, &heard, &ended, &withdrawn, &reason,
		&r.callUUID, &r.path, &r.state, &r.startedAt, &r.endedAt, &r.durationMS, &r.bytes); err != nil {
		return nil, err
	}
	var ts timeScanner
	c.StartedAt = ts.parse(started)
	c.EndedAt = ts.parse(ended)
	c.WithdrawnAt = ts.parse(withdrawn)
	c.WithdrawalReason = reason.String
	if decidedAt.Valid { // a proof is stored exactly when its decision time is
		c.Proof = &consent.Proof{
			DecidedAt:     ts.parse(decidedAt),
			Digit:         digit.String,
			Tries:         int(tries.Int64),
			NoticeVersion: version.String,
			NoticeSHA256:  sha.String,
			Language:      lang.String,
			HeardMS:       heard.Int64,
		}
	}
	if ts.err != nil {
		return nil, ts.err
	}
	rec, err := r.recording()
	if err != nil {
		return nil, err
	}
	c.Recording = rec
	return &c, nil
}

// recordingRow holds a possibly NULL recording from a LEFT JOIN.
type recordingRow struct {
	callUUID, path, state, startedAt, endedAt sql.NullString
	durationMS, bytes                         sql.NullInt64
}

func (r *recordingRow) dest() []any {
	return []any{&r.callUUID, &r.path, &r.state, &r.startedAt, &r.endedAt, &r.durationMS, &r.bytes}
}

// recording returns the row as a Recording, or nil when the join found none.
func (r *recordingRow) recording() (*consent.Recording, error) {
	if !r.callUUID.Valid {
		return nil, nil
	}
	var ts timeScanner
	rec := &consent.Recording{
		CallUUID:   r.callUUID.String,
		Path:       r.path.String,
		State:      consent.RecordingState(r.state.String),
		StartedAt:  ts.parse(r.startedAt),
		EndedAt:    ts.parse(r.endedAt),
		DurationMS: r.durationMS.Int64,
		Bytes:      r.bytes.Int64,
	}
	return rec, ts.err
}
