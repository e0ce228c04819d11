package sqlite

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"iter"
	"math"
	"time"

	"github.com/callconsent/callconsent/access"
	csqlite "github.com/callconsent/callconsent/consent/sqlite"
)

func translate(err error) error { return csqlite.TranslateError(err) }

func (t *txn) Session(h []byte) (access.Session, error) {
	var s access.Session
	var c, l sql.NullString
	err := t.q.QueryRow(`SELECT token_hash, user, created_at, last_used FROM sessions WHERE token_hash = ?`, h).Scan(&s.TokenHash, &s.User, &c, &l)
	if err != nil {
		return s, notFound(err, "no session")
	}
	var ts times
	s.CreatedAt, s.LastUsed = ts.parse(c), ts.parse(l)
	return s, ts.err
}

func (t *txn) Sessions(user string) ([]access.Session, error) {
	rows, err := t.q.Query(`SELECT token_hash, user, created_at, last_used FROM sessions WHERE user = ? ORDER BY created_at, token_hash`, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []access.Session
	for rows.Next() {
		var s access.Session
		var c, l sql.NullString
		if err := rows.Scan(&s.TokenHash, &s.User, &c, &l); err != nil {
			return nil, err
		}
		var ts times
		s.CreatedAt, s.LastUsed = ts.parse(c), ts.parse(l)
		if ts.err != nil {
			return nil, ts.err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (t *txn) InsertSession(s access.Session) error {
	_, err := t.q.Exec(`INSERT INTO sessions (token_hash, user, created_at, last_used) VALUES (?, ?, ?, ?)`,
		s.TokenHash, s.User, formatTime(s.CreatedAt), formatTime(s.LastUsed))
	return err
}

func (t *txn) TouchSession(h []byte, at time.Time) error {
	res, err := t.q.Exec(`UPDATE sessions SET last_used = ? WHERE token_hash = ?`, formatTime(at), h)
	return affected(res, err, "no session")
}

func (t *txn) DeleteSession(h []byte) error {
	_, err := t.q.Exec(`DELETE FROM sessions WHERE token_hash = ?`, h)
	return err
}

func (t *txn) DeleteSessions(user string) (int, error) {
	res, err := t.q.Exec(`DELETE FROM sessions WHERE user = ?`, user)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *txn) AuditTail() (int64, []byte, error) {
	var seq int64
	var mac []byte
	err := t.q.QueryRow(`SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &mac)
	if err == nil {
		return seq, mac, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return 0, nil, err
	}
	a, err := t.AuditAnchor()
	if err != nil || a.Seq <= 1 {
		return 0, nil, err
	}
	return a.Seq - 1, a.PrevMAC, nil
}

func (t *txn) InsertAudit(e access.Entry) error {
	objs := e.Objects
	if objs == nil {
		objs = []access.Object{}
	}
	ob, err := json.Marshal(objs)
	if err != nil {
		return err
	}
	_, err = t.q.Exec(`INSERT INTO audit_log (seq, time, actor, actor_kind, role, action, purpose, reason, objects, result, detail, prev_mac, mac)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, formatTime(e.Time), e.Actor, string(e.ActorKind), string(e.Role), e.Action, e.Purpose, e.Reason, string(ob),
		string(e.Result), e.Detail, e.PrevMAC, e.MAC)
	if err != nil {
		return err
	}
	seen := map[access.Object]bool{}
	for _, o := range objs {
		if seen[o] {
			continue
		}
		seen[o] = true
		if _, err := t.q.Exec(`INSERT INTO audit_objects (kind, id, seq) VALUES (?, ?, ?)`, o.Kind, o.ID, e.Seq); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) AuditWalk(from, to int64, fn func(access.Entry) error) error {
	if to <= 0 {
		to = math.MaxInt64
	}
	rows, err := t.q.Query(`SELECT seq, time, actor, actor_kind, role, action, purpose, reason, objects, result, detail, prev_mac, mac FROM audit_log
		WHERE seq >= ? AND seq <= ? ORDER BY seq`, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (t *txn) AuditIndex() iter.Seq2[access.IndexRow, error] {
	return func(yield func(access.IndexRow, error) bool) {
		rows, err := t.q.Query(`SELECT seq, kind, id FROM audit_objects ORDER BY seq, kind, id`)
		if err != nil {
			yield(access.IndexRow{}, err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var r access.IndexRow
			if err := rows.Scan(&r.Seq, &r.Kind, &r.ID); err != nil {
				yield(r, err)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(access.IndexRow{}, err)
		}
	}
}

func (t *txn) AuditAnchor() (access.Anchor, error) {
	var a access.Anchor
	err := t.q.QueryRow(`SELECT seq, prev_mac, mac FROM audit_anchor WHERE id = 1`).Scan(&a.Seq, &a.PrevMAC, &a.MAC)
	return a, err
}

func (t *txn) PruneAudit(a access.Anchor) (int64, error) {
	if _, err := t.q.Exec(`UPDATE audit_anchor SET seq = ?, prev_mac = ?, mac = ? WHERE id = 1`, a.Seq, a.PrevMAC, a.MAC); err != nil {
		return 0, err
	}
	if _, err := t.q.Exec(`DELETE FROM audit_objects WHERE seq < ?`, a.Seq); err != nil {
		return 0, err
	}
	res, err := t.q.Exec(`DELETE FROM audit_log WHERE seq < ?`, a.Seq)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *txn) AuditKeyFingerprint() ([]byte, error) {
	var v string
	err := t.q.QueryRow(`SELECT value FROM meta WHERE key = 'audit_key_fingerprint'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}

func (t *txn) SetAuditKeyFingerprint(fp []byte) error {
	_, err := t.q.Exec(`INSERT INTO meta (key, value) VALUES ('audit_key_fingerprint', ?)`, hexs(fp))
	return err
}

func hexs(b []byte) string { return hex.EncodeToString(b) }
