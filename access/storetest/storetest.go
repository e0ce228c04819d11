// Package storetest is the contract every access.Store passes: the SQLite store runs it
// (access/sqlite), and so must the PostgreSQL store for multi-node sites. Each subtest opens a
// fresh, empty store through open.
package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
)

// Run runs the contract against stores made by open.
func Run(t *testing.T, open func(t *testing.T) access.Store) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("Grants", func(t *testing.T) { testGrants(t, open(t)) })
	t.Run("Purposes", func(t *testing.T) { testPurposes(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, open(t)) })
	t.Run("KeyFingerprint", func(t *testing.T) { testFingerprint(t, open(t)) })
}

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 123456789, time.UTC)

func update(t *testing.T, s access.Store, fn func(access.Tx) error) error {
	t.Helper()
	return s.Update(context.Background(), fn)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if consent.ErrorCode(err) != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func testUsers(t *testing.T, s access.Store) {
	u := access.User{Name: "ann", Role: access.RoleLineManager, PasswordHash: "$argon2id$x", CreatedAt: t0, CreatedBy: "host:root"}
	must(t, update(t, s, func(tx access.Tx) error { return tx.InsertUser(u) }))
	wantCode(t, update(t, s, func(tx access.Tx) error { return tx.InsertUser(u) }), consent.ECONFLICT)
	u.FailedLogins, u.LockedUntil, u.Disabled = 4, t0.Add(time.Minute), true
	must(t, update(t, s, func(tx access.Tx) error { return tx.UpdateUser(u) }))
	var got access.User
	must(t, s.View(context.Background(), func(tx access.Tx) error {
		var err error
		got, err = tx.User("ann")
		return err
	}))
	if got.FailedLogins != 4 || !got.LockedUntil.Equal(u.LockedUntil) || !got.Disabled || !got.CreatedAt.Equal(t0) || got.Role != access.RoleLineManager || got.PasswordHash != u.PasswordHash {
		t.Fatalf("user = %+v", got)
	}
	wantCode(t, s.View(context.Background(), func(tx access.Tx) error { _, err := tx.User("bob"); return err }), consent.ENOTFOUND)
	wantCode(t, update(t, s, func(tx access.Tx) error { return tx.UpdateUser(access.User{Name: "bob", Role: access.RoleLineManager}) }), consent.ENOTFOUND)
	must(t, update(t, s, func(tx access.Tx) error {
		return tx.InsertUser(access.User{Name: "bea", Role: access.RoleSecurityOfficer, PasswordHash: "h", CreatedAt: t0, CreatedBy: "x"})
	}))
	must(t, s.View(context.Background(), func(tx access.Tx) error {
		us, err := tx.Users()
		if len(us) != 2 || us[0].Name != "ann" || us[1].Name != "bea" {
			t.Fatalf("users = %+v", us)
		}
		return err
	}))
	// Writes in a View are refused.
	if err := s.View(context.Background(), func(tx access.Tx) error {
		return tx.InsertUser(access.User{Name: "cid", Role: access.RoleLineManager, CreatedAt: t0})
	}); err == nil {
		t.Fatal("write in View accepted")
	}
}

func testGrants(t *testing.T, s access.Store) {
	must(t, update(t, s, func(tx access.Tx) error {
		return tx.InsertUser(access.User{Name: "ann", Role: access.RoleLineManager, PasswordHash: "h", CreatedAt: t0, CreatedBy: "x"})
	}))
	g := access.Grant{User: "ann", Purposes: []string{"training", "quality-assurance"}, ExpiresAt: t0.Add(24 * time.Hour), GrantedBy: "bea", GrantedAt: t0, Reason: "new team lead for QA"}
	must(t, update(t, s, func(tx access.Tx) error { return tx.InsertGrant(&g) }))
	if g.ID == 0 {
		t.Fatal("no id")
	}
	g2 := g
	must(t, update(t, s, func(tx access.Tx) error { return tx.InsertGrant(&g2) }))
	if g2.ID <= g.ID {
		t.Fatalf("ids %d, %d", g.ID, g2.ID)
	}
	g.RevokedAt, g.RevokedBy, g.RevokeReason = t0.Add(time.Hour), "bea", "left the team"
	must(t, update(t, s, func(tx access.Tx) error { return tx.RevokeGrant(g) }))
	if err := update(t, s, func(tx access.Tx) error { return tx.RevokeGrant(g) }); err == nil {
		t.Fatal("revoked twice")
	}
	must(t, s.View(context.Background(), func(tx access.Tx) error {
		got, err := tx.Grant(g.ID)
		if err != nil {
			return err
		}
		if got.State(t0.Add(2*time.Hour)) != access.GrantRevoked || got.RevokeReason != "left the team" || len(got.Purposes) != 2 || got.Purposes[0] != "quality-assurance" || !got.ExpiresAt.Equal(g.ExpiresAt) {
			t.Fatalf("grant = %+v", got)
		}
		gs, err := tx.Grants("ann")
		if len(gs) != 2 || gs[0].ID != g.ID {
			t.Fatalf("grants = %+v", gs)
		}
		if gs, _ := tx.Grants("nobody"); len(gs) != 0 {
			t.Fatalf("grants of nobody = %+v", gs)
		}
		_, err2 := tx.Grant(999)
		wantCode(t, err2, consent.ENOTFOUND)
		return err
	}))
	// A grant for a user who does not exist is refused.
	if err := update(t, s, func(tx access.Tx) error {
		return tx.InsertGrant(&access.Grant{User: "ghost", Purposes: []string{"training"}, ExpiresAt: t0, GrantedBy: "x", GrantedAt: t0, Reason: "r"})
	}); err == nil {
		t.Fatal("grant for unknown user stored")
	}
}

func testPurposes(t *testing.T, s access.Store) {
	p := access.Purpose{Name: "training", Description: "train staff", ApprovedBy: "bea", ApprovedAt: t0, Reason: "policy section one"}
	must(t, update(t, s, func(tx access.Tx) error { return tx.InsertPurpose(p) }))
	wantCode(t, update(t, s, func(tx access.Tx) error { return tx.InsertPurpose(p) }), consent.ECONFLICT)
	p.RetiredAt, p.RetiredBy, p.RetireReason = t0.Add(time.Hour), "bea", "no longer needed here"
	must(t, update(t, s, func(tx access.Tx) error { return tx.RetirePurpose(p) }))
	if err := update(t, s, func(tx access.Tx) error { return tx.RetirePurpose(p) }); err == nil {
		t.Fatal("retired twice")
	}
	must(t, s.View(context.Background(), func(tx access.Tx) error {
		ps, err := tx.Purposes()
		if len(ps) != 1 || ps[0].Active() || ps[0].RetireReason != p.RetireReason || !ps[0].ApprovedAt.Equal(t0) {
			t.Fatalf("purposes = %+v", ps)
		}
		return err
	}))
}

func testSessions(t *testing.T, s access.Store) {
	must(t, update(t, s, func(tx access.Tx) error {
		return tx.InsertUser(access.User{Name: "ann", Role: access.RoleLineManager, PasswordHash: "h", CreatedAt: t0, CreatedBy: "x"})
	}))
	h1, h2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	must(t, update(t, s, func(tx access.Tx) error {
		if err := tx.InsertSession(access.Session{TokenHash: h1, User: "ann", CreatedAt: t0, LastUsed: t0}); err != nil {
			return err
		}
		return tx.InsertSession(access.Session{TokenHash: h2, User: "ann", CreatedAt: t0.Add(time.Second), LastUsed: t0})
	}))
	must(t, update(t, s, func(tx access.Tx) error { return tx.TouchSession(h1, t0.Add(time.Minute)) }))
	must(t, s.View(context.Background(), func(tx access.Tx) error {
		ss, err := tx.Sessions("ann")
		if len(ss) != 2 || !bytes.Equal(ss[0].TokenHash, h1) || !ss[0].LastUsed.Equal(t0.Add(time.Minute)) {
			t.Fatalf("sessions = %+v", ss)
		}
		return err
	}))
	must(t, update(t, s, func(tx access.Tx) error { return tx.DeleteSession(h1) }))
	wantCode(t, s.View(context.Background(), func(tx access.Tx) error { _, err := tx.Session(h1); return err }), consent.ENOTFOUND)
	must(t, update(t, s, func(tx access.Tx) error {
		n, err := tx.DeleteSessions("ann")
		if n != 1 {
			t.Fatalf("deleted %d", n)
		}
		return err
	}))
}
