package sqlite

import (
	"database/sql"
	"slices"
	"strings"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
)

const userCols = `name, role, disabled, password_hash, created_at, created_by, failed_logins, locked_until, must_change_password`

func scanUser(sc interface{ Scan(...any) error }) (access.User, error) {
	var u access.User
	var role string
	var created, locked sql.NullString
	if err := sc.Scan(&u.Name, &role, &u.Disabled, &u.PasswordHash, &created, &u.CreatedBy, &u.FailedLogins, &locked, &u.MustChangePassword); err != nil {
		return u, err
	}
	var ts times
	u.Role, u.CreatedAt, u.LockedUntil = access.Role(role), ts.parse(created), ts.parse(locked)
	return u, ts.err
}

func (t *txn) User(name string) (access.User, error) {
	u, err := scanUser(t.q.QueryRow(`SELECT `+userCols+` FROM users WHERE name = ?`, name))
	return u, notFound(err, "no user %s", name)
}

func (t *txn) Users() ([]access.User, error) {
	rows, err := t.q.Query(`SELECT ` + userCols + ` FROM users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []access.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (t *txn) InsertUser(u access.User) error {
	_, err := t.q.Exec(`INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.Name, string(u.Role), u.Disabled, u.PasswordHash, formatTime(u.CreatedAt), u.CreatedBy, u.FailedLogins, formatTime(u.LockedUntil), u.MustChangePassword)
	if consent.ErrorCode(translate(err)) == consent.ECONFLICT {
		return consent.Errorf(consent.ECONFLICT, "user %s exists already", u.Name)
	}
	return err
}

func (t *txn) UpdateUser(u access.User) error {
	res, err := t.q.Exec(`UPDATE users SET role = ?, disabled = ?, password_hash = ?, failed_logins = ?, locked_until = ?, must_change_password = ? WHERE name = ?`,
		string(u.Role), u.Disabled, u.PasswordHash, u.FailedLogins, formatTime(u.LockedUntil), u.MustChangePassword, u.Name)
	return affected(res, err, "no user %s", u.Name)
}

func affected(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return consent.Errorf(consent.ENOTFOUND, format, args...)
	}
	return nil
}

const grantCols = `id, user, purposes, expires_at, granted_by, granted_at, reason, revoked_at, revoked_by, revoke_reason`

func scanGrant(sc interface{ Scan(...any) error }) (access.Grant, error) {
	var g access.Grant
	var purposes string
	var exp, at, rat, rby, rr sql.NullString
	if err := sc.Scan(&g.ID, &g.User, &purposes, &exp, &g.GrantedBy, &at, &g.Reason, &rat, &rby, &rr); err != nil {
		return g, err
	}
	var ts times
	g.Purposes = strings.Split(purposes, ",")
	g.ExpiresAt, g.GrantedAt, g.RevokedAt = ts.parse(exp), ts.parse(at), ts.parse(rat)
	g.RevokedBy, g.RevokeReason = rby.String, rr.String
	return g, ts.err
}

func (t *txn) Grant(id int64) (access.Grant, error) {
	g, err := scanGrant(t.q.QueryRow(`SELECT `+grantCols+` FROM grants WHERE id = ?`, id))
	return g, notFound(err, "no grant %d", id)
}

func (t *txn) Grants(user string) ([]access.Grant, error) {
	q, args := `SELECT `+grantCols+` FROM grants ORDER BY id`, []any{}
	if user != "" {
		q, args = `SELECT `+grantCols+` FROM grants WHERE user = ? ORDER BY id`, []any{user}
	}
	rows, err := t.q.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []access.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func (t *txn) InsertGrant(g *access.Grant) error {
	ps := slices.Sorted(slices.Values(g.Purposes))
	res, err := t.q.Exec(`INSERT INTO grants (user, purposes, expires_at, granted_by, granted_at, reason) VALUES (?, ?, ?, ?, ?, ?)`,
		g.User, strings.Join(ps, ","), formatTime(g.ExpiresAt), g.GrantedBy, formatTime(g.GrantedAt), g.Reason)
	if err != nil {
		return err
	}
	g.ID, err = res.LastInsertId()
	return err
}

func (t *txn) RevokeGrant(g access.Grant) error {
	res, err := t.q.Exec(`UPDATE grants SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL`,
		formatTime(g.RevokedAt), g.RevokedBy, g.RevokeReason, g.ID)
	return affected(res, err, "no grant %d that is not revoked", g.ID)
}

const purposeCols = `name, description, approved_by, approved_at, reason, retired_at, retired_by, retire_reason`

func scanPurpose(sc interface{ Scan(...any) error }) (access.Purpose, error) {
	var p access.Purpose
	var at, rat, rby, rr sql.NullString
	if err := sc.Scan(&p.Name, &p.Description, &p.ApprovedBy, &at, &p.Reason, &rat, &rby, &rr); err != nil {
		return p, err
	}
	var ts times
	p.ApprovedAt, p.RetiredAt = ts.parse(at), ts.parse(rat)
	p.RetiredBy, p.RetireReason = rby.String, rr.String
	return p, ts.err
}

func (t *txn) Purpose(name string) (access.Purpose, error) {
	p, err := scanPurpose(t.q.QueryRow(`SELECT `+purposeCols+` FROM purposes WHERE name = ?`, name))
	return p, notFound(err, "no purpose %s", name)
}

func (t *txn) Purposes() ([]access.Purpose, error) {
	rows, err := t.q.Query(`SELECT ` + purposeCols + ` FROM purposes ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []access.Purpose
	for rows.Next() {
		p, err := scanPurpose(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (t *txn) InsertPurpose(p access.Purpose) error {
	_, err := t.q.Exec(`INSERT INTO purposes (name, description, approved_by, approved_at, reason) VALUES (?, ?, ?, ?, ?)`,
		p.Name, p.Description, p.ApprovedBy, formatTime(p.ApprovedAt), p.Reason)
	if consent.ErrorCode(translate(err)) == consent.ECONFLICT {
		return consent.Errorf(consent.ECONFLICT, "purpose %s exists already (retired purposes keep their name)", p.Name)
	}
	return err
}

func (t *txn) RetirePurpose(p access.Purpose) error {
	res, err := t.q.Exec(`UPDATE purposes SET retired_at = ?, retired_by = ?, retire_reason = ? WHERE name = ? AND retired_at IS NULL`,
		formatTime(p.RetiredAt), p.RetiredBy, p.RetireReason, p.Name)
	return affected(res, err, "no purpose %s in force", p.Name)
}
