package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
)

// TestService_GrantLifecycle: a grant allows a line manager's listen for its purpose until it is
// revoked or expires; every decision, allowed or denied, is in the audit log with actor,
// purpose and reason, and the allowed one only once Done was called.
func TestService_GrantLifecycle(t *testing.T) {
	e := newEnv(t)
	officer, manager := e.staffed(t)
	listen := access.Request{Action: access.ActionListen, Purpose: "quality-assurance", Reason: goodReason,
		Objects: []access.Object{{Kind: access.ObjectCall, ID: "3f2c0c1e-0000-4000-8000-000000000001"}}}

	if _, err := e.svc.Authorize(ctx, manager, listen); consent.ErrorCode(err) != consent.ECONFLICT || !strings.Contains(err.Error(), "holds no grant") {
		t.Fatalf("listen without grant: %v", err)
	}
	if en := e.last(t); en.Result != access.ResultDenied || en.Action != "listen" || en.Purpose != "quality-assurance" || en.Reason != goodReason || en.Actor != "mats" || !en.About(access.ObjectCall, listen.Objects[0].ID) {
		t.Fatalf("denial entry = %+v", en)
	}

	// Grants: only for line managers, existing purposes, a reason, a bounded expiry.
	tomorrow := now.Add(24 * time.Hour)
	for _, bad := range []struct {
		user     string
		purposes []string
		expires  time.Time
		reason   string
		code     string
	}{
		{"olga", []string{"quality-assurance"}, tomorrow, goodReason, consent.ECONFLICT},
		{"mats", []string{"marketing"}, tomorrow, goodReason, consent.EINVALID},
		{"mats", []string{"quality-assurance"}, now.Add(-time.Hour), goodReason, consent.EINVALID},
		{"mats", []string{"quality-assurance"}, now.Add(400 * 24 * time.Hour), goodReason, consent.EINVALID},
		{"mats", []string{"quality-assurance"}, tomorrow, "qa", consent.ECONFLICT},
		{"nobody", []string{"quality-assurance"}, tomorrow, goodReason, consent.ENOTFOUND},
	} {
		_, err := e.svc.AddGrant(ctx, officer, bad.user, bad.purposes, bad.expires, bad.reason)
		if consent.ErrorCode(err) != bad.code {
			t.Fatalf("grant %+v: %v, want %s", bad, err, bad.code)
		}
		if en := e.last(t); en.Action != "grant.add" || en.Result == access.ResultOK {
			t.Fatalf("refused grant %+v audited as %+v", bad, en)
		}
	}
	if _, err := e.svc.AddGrant(ctx, manager, "mats", []string{"quality-assurance"}, tomorrow, goodReason); err == nil {
		t.Fatal("a line manager granted himself access")
	}
	g, err := e.svc.AddGrant(ctx, officer, "mats", []string{"quality-assurance"}, tomorrow, "new QA lead for the Oslo team")
	if err != nil {
		t.Fatal(err)
	}
	if en := e.last(t); en.Action != "grant.add" || en.Actor != "olga" || en.Reason != "new QA lead for the Oslo team" || !en.About(access.ObjectGrant, "1") || !en.About(access.ObjectUser, "mats") {
		t.Fatalf("grant entry = %+v", en)
	}

	acc, err := e.svc.Authorize(ctx, manager, listen)
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.entries(t))
	if acc.Grant != g.ID {
		t.Fatalf("access by grant %d, want %d", acc.Grant, g.ID)
	}
	if err := acc.Done(ctx, nil, "copied 42 KiB"); err != nil {
		t.Fatal(err)
	}
	if got := e.entries(t); len(got) != before+1 {
		t.Fatalf("allowed access wrote %d entries", len(got)-before)
	}
	if en := e.last(t); en.Result != access.ResultOK || en.Action != "listen" || !en.About(access.ObjectGrant, "1") || en.Detail != "copied 42 KiB" {
		t.Fatalf("listen entry = %+v", en)
	}
	if err := acc.Done(ctx, nil, ""); err == nil {
		t.Fatal("Done twice")
	}
	// The officer, grant or not, never listens.
	if _, err := e.svc.Authorize(ctx, officer, listen); err == nil {
		t.Fatal("officer listened")
	}

	// Revoke: refused afterwards; revoking twice is a conflict.
	if _, err := e.svc.RevokeGrant(ctx, officer, g.ID, "left the quality team"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RevokeGrant(ctx, officer, g.ID, "left the quality team"); consent.ErrorCode(err) != consent.ECONFLICT {
		t.Fatalf("second revoke: %v", err)
	}
	if _, err := e.svc.Authorize(ctx, manager, listen); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("listen after revoke: %v", err)
	}
	// Expiry: a new grant until tomorrow ends by itself.
	if _, err := e.svc.AddGrant(ctx, officer, "mats", []string{"quality-assurance", "training"}, tomorrow, "back in the quality team now"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authorize(ctx, manager, listen); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(24 * time.Hour)
	if _, err := e.svc.Authorize(ctx, manager, listen); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("listen after expiry: %v", err)
	}
	active, _ := e.svc.Grants(ctx, officer, false)
	all, _ := e.svc.Grants(ctx, officer, true)
	if len(active) != 0 || len(all) != 2 {
		t.Fatalf("grants: %d active, %d in all", len(active), len(all))
	}
	// A disabled line manager cannot log in or act, whatever his grants.
	if err := e.svc.DisableUser(ctx, officer, "mats", "left the company in November"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Login(ctx, "mats", managerPW); err == nil {
		t.Fatal("disabled user logged in")
	}
	if _, err := e.svc.Authorize(ctx, manager, listen); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("disabled user's old actor: %v", err)
	}
	users, _ := e.svc.Users(ctx, officer)
	for _, u := range users {
		if u.PasswordHash != "" {
			t.Fatal("Users returned a hash")
		}
	}
	// The chain of all this verifies.
	rep, err := e.svc.Verify(ctx, officer)
	if err != nil || !rep.OK() || rep.Head == nil || rep.Head.Seq != rep.Entries {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// TestSessions: idle and absolute timeouts, touch on use, logout, rotation, the bound per user,
// and the end of every session at a password reset.
func TestSessions(t *testing.T) {
	e := newEnv(t)
	officer, _ := e.staffed(t)
	tok, actor, err := e.svc.StartSession(ctx, "mats", managerPW)
	if err != nil || actor.Name != "mats" || len(tok) < 40 {
		t.Fatalf("start: %q %+v %v", tok, actor, err)
	}
	if _, _, err := e.svc.StartSession(ctx, "mats", "wrong password again"); err != access.ErrLoginFailed {
		t.Fatalf("bad login: %v", err)
	}
	// Touched on use: 10 minutes apart, 3 times, stays alive past the 15-minute idle limit.
	for i := 0; i < 3; i++ {
		e.clock.Add(10 * time.Minute)
		if _, err := e.svc.Session(ctx, tok); err != nil {
			t.Fatalf("use %d: %v", i, err)
		}
	}
	e.clock.Add(access.DefaultIdleTimeout)
	if _, err := e.svc.Session(ctx, tok); err != access.ErrNoSession {
		t.Fatalf("idle session: %v", err)
	}
	// Absolute age.
	tok, _, _ = e.svc.StartSession(ctx, "mats", managerPW)
	for el := time.Duration(0); el < access.DefaultMaxAge-10*time.Minute; el += 10 * time.Minute {
		e.clock.Add(10 * time.Minute)
		if _, err := e.svc.Session(ctx, tok); err != nil {
			t.Fatalf("at %v: %v", el, err)
		}
	}
	e.clock.Add(10 * time.Minute)
	if _, err := e.svc.Session(ctx, tok); err != access.ErrNoSession {
		t.Fatalf("session past max age: %v", err)
	}
	// Logout; rotation (two logins are two sessions); a reset ends all.
	a, _, _ := e.svc.StartSession(ctx, "mats", managerPW)
	b, _, _ := e.svc.StartSession(ctx, "mats", managerPW)
	if a == b {
		t.Fatal("same token twice")
	}
	if err := e.svc.EndSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	if en := e.last(t); en.Action != "logout" || en.Actor != "mats" {
		t.Fatalf("logout entry = %+v", en)
	}
	if _, err := e.svc.Session(ctx, a); err != access.ErrNoSession {
		t.Fatal("session alive after logout")
	}
	if _, err := e.svc.Session(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetPassword(ctx, officer, "mats", "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Session(ctx, b); err != access.ErrNoSession {
		t.Fatal("session alive after password reset")
	}
	// The reset password opens no session; mats sets his own first (TestPasswordResetSingleUse).
	if _, _, err := e.svc.StartSession(ctx, "mats", "a brand new passphrase"); !errors.Is(err, access.ErrPasswordReset) || consent.ErrorCode(err) != consent.ECONFLICT {
		t.Fatalf("session with a reset password: %v", err)
	}
	m, err := e.svc.Login(ctx, "mats", "a brand new passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetPassword(ctx, m, "mats", "his very own passphrase"); err != nil {
		t.Fatal(err)
	}
	// At most MaxSessions per user: the oldest go.
	var toks []string
	for i := 0; i < access.DefaultMaxSessions+2; i++ {
		tk, _, err := e.svc.StartSession(ctx, "mats", "his very own passphrase")
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tk)
		e.clock.Add(time.Second)
	}
	alive := 0
	for i, tk := range toks {
		if _, err := e.svc.Session(ctx, tk); err == nil {
			alive++
		} else if i >= 2 {
			t.Fatalf("session %d ended, not one of the oldest", i)
		}
	}
	if alive != access.DefaultMaxSessions {
		t.Fatalf("%d sessions alive, want %d", alive, access.DefaultMaxSessions)
	}
	if _, err := e.svc.Session(ctx, ""); err != access.ErrNoSession {
		t.Fatal("empty token accepted")
	}
}

// TestAuthorize_DenialAuditedAfterCancel: a refused request whose context has ended (the web
// client hung up) still leaves its denial in the audit log.
func TestAuthorize_DenialAuditedAfterCancel(t *testing.T) {
	e := newEnv(t)
	_, manager := e.staffed(t)
	c, cancel := context.WithCancel(ctx)
	n := len(e.entries(t))
	cancel()
	if _, err := e.svc.Authorize(c, manager, access.Request{Action: access.ActionSearch, Purpose: "training", Reason: goodReason}); err == nil {
		t.Fatal("allowed")
	}
	if got := e.entries(t); len(got) != n+1 || got[n].Result != access.ResultDenied {
		t.Fatalf("denial after cancel: %d new entries", len(got)-n)
	}
}
