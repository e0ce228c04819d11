// Package sqlite implements access.Store in callconsent's one SQLite database, through the
// transaction API of consent/sqlite: the same file and the same group-commit writer as the
// consent store, so a backup holds both and an access change commits with its audit entry.
// The schema is consent/sqlite's migration 100_access.sql (numbered apart from consent's, and
// embedded there so that every binary that opens the file knows it); this package holds the
// queries. It does not import the driver: consent/sqlite translates its errors.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	csqlite "github.com/callconsent/callconsent/consent/sqlite"
)

var _ access.Store = (*Store)(nil)

// Store is access.Store on a consent/sqlite DB, which its owner opens and closes.
type Store struct {
	db *csqlite.DB
}

// New returns the access store in db.
func New(db *csqlite.DB) *Store { return &Store{db: db} }

// Update runs fn in the shared writer's transaction.
func (s *Store) Update(ctx context.Context, fn func(access.Tx) error) error {
	return s.db.Update(ctx, func(tx *csqlite.Tx) error { return fn(&txn{q: tx}) })
}

// View runs fn on a read snapshot.
func (s *Store) View(ctx context.Context, fn func(access.Tx) error) error {
	return s.db.View(ctx, func(tx *sql.Tx) error { return fn(&txn{q: readTx{tx}}) })
}

// querier is what both transaction kinds offer.
type querier interface {
	Exec(query string, args ...any) (sql.Result, error)
	Query(query string, args ...any) (*sql.Rows, error)
	QueryRow(query string, args ...any) *sql.Row
}

type readTx struct{ tx *sql.Tx }

func (r readTx) Exec(q string, a ...any) (sql.Result, error) { return r.tx.Exec(q, a...) }
func (r readTx) Query(q string, a ...any) (*sql.Rows, error) { return r.tx.Query(q, a...) }
func (r readTx) QueryRow(q string, a ...any) *sql.Row        { return r.tx.QueryRow(q, a...) }

type txn struct{ q querier }

func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(csqlite.TimeFormat)
}

type times struct{ err error }

func (ts *times) parse(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil && ts.err == nil {
		ts.err = fmt.Errorf("malformed stored time %q", s.String)
	}
	return t.UTC()
}

func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Errorf(consent.ENOTFOUND, format, args...)
	}
	return err
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Audit streams the entries matching f in sequence order from the read pool.
func (s *Store) Audit(ctx context.Context, f access.AuditFilter, fn func(access.Entry) error) error {
	r, err := s.db.Reader()
	if err != nil {
		return err
	}
	var where []string
	var args []any
	if f.AfterSeq > 0 {
		where, args = append(where, "seq > ?"), append(args, f.AfterSeq)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "time < ?"), append(args, formatTime(f.Until))
	}
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.ActorKind != "" {
		where, args = append(where, "actor_kind = ?"), append(args, string(f.ActorKind))
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if len(f.Objects) > 0 {
		var ors []string
		for _, o := range f.Objects {
			ors, args = append(ors, "(kind = ? AND id = ?)"), append(args, o.Kind, o.ID)
		}
		where = append(where, "seq IN (SELECT seq FROM audit_objects WHERE "+strings.Join(ors, " OR ")+")")
	}
	q := `SELECT seq, time, actor, actor_kind, role, action, purpose, reason, objects, result, detail, prev_mac, mac FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := r.QueryContext(ctx, q, args...)
	if err != nil {
		return csqlite.TranslateError(err)
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
	return csqlite.TranslateError(rows.Err())
}

func scanEntry(rows *sql.Rows) (access.Entry, error) {
	var e access.Entry
	var t sql.NullString
	var kind, role, result, objs string
	if err := rows.Scan(&e.Seq, &t, &e.Actor, &kind, &role, &e.Action, &e.Purpose, &e.Reason, &objs, &result, &e.Detail, &e.PrevMAC, &e.MAC); err != nil {
		return e, err
	}
	var ts times
	e.Time = ts.parse(t)
	e.ActorKind, e.Role, e.Result = access.ActorKind(kind), access.Role(role), access.Result(result)
	if err := json.Unmarshal([]byte(objs), &e.Objects); err != nil {
		// A damaged list is reported as part of the entry, so verify names it changed.
		e.Objects = []access.Object{{Kind: "unreadable", ID: objs}}
	}
	return e, ts.err
}

// Purposes reads the purposes on a read snapshot (for `policy` and `purposes list`, which open
// the database read-only).
func (s *Store) Purposes(ctx context.Context) ([]access.Purpose, error) {
	var out []access.Purpose
	err := s.View(ctx, func(tx access.Tx) error {
		var err error
		out, err = tx.Purposes()
		return err
	})
	return out, err
}
