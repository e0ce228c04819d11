package access_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

const goodReason = "customer complaint 4711 about agent tone"

// TestAuthorize covers every rule of Authorize: role × grant state × purpose × reason × expiry.
func TestAuthorize(t *testing.T) {
	officer := access.Actor{Kind: access.ActorUser, Name: "olga", Role: access.RoleSecurityOfficer}
	manager := access.Actor{Kind: access.ActorUser, Name: "mats", Role: access.RoleLineManager}
	host := access.HostActor("callconsent")
	system := access.Actor{Kind: access.ActorSystem, Name: "daemon"}
	userOf := func(a access.Actor) *access.User { return &access.User{Name: a.Name, Role: a.Role} }
	purposes := []access.Purpose{{Name: "training"}, {Name: "quality-assurance"}, {Name: "old", RetiredAt: now.Add(-time.Hour)}}
	grant := func(mod func(*access.Grant)) []access.Grant {
		g := access.Grant{ID: 7, User: "mats", Purposes: []string{"old", "quality-assurance"}, ExpiresAt: now.Add(24 * time.Hour)}
		if mod != nil {
			mod(&g)
		}
		return []access.Grant{g}
	}
	active := grant(nil)
	expired := grant(func(g *access.Grant) { g.ExpiresAt = now })
	revoked := grant(func(g *access.Grant) { g.RevokedAt = now.Add(-time.Minute) })
	otherUser := grant(func(g *access.Grant) { g.User = "nina" })

	type tc struct {
		actor   access.Actor
		user    *access.User
		action  access.Action
		purpose string
		reason  string
		grants  []access.Grant
		allow   bool
		why     string // part of the denial
	}
	var cases []tc
	// Line manager on recordings: every action × grant state × purpose × reason.
	for _, act := range []access.Action{access.ActionSearch, access.ActionListen, access.ActionExport} {
		cases = append(cases,
			tc{manager, userOf(manager), act, "quality-assurance", goodReason, active, true, ""},
			tc{manager, userOf(manager), act, "quality-assurance", goodReason, expired, false, "is expired"},
			tc{manager, userOf(manager), act, "quality-assurance", goodReason, revoked, false, "is revoked"},
			tc{manager, userOf(manager), act, "quality-assurance", goodReason, nil, false, "holds no grant"},
			tc{manager, userOf(manager), act, "quality-assurance", goodReason, otherUser, false, "holds no grant"},
			tc{manager, userOf(manager), act, "training", goodReason, active, false, "holds no grant for purpose training"},
			tc{manager, userOf(manager), act, "old", goodReason, active, false, "not an approved purpose in force"},
			tc{manager, userOf(manager), act, "marketing", goodReason, active, false, "not an approved purpose"},
			tc{manager, userOf(manager), act, "", goodReason, active, false, "needs a purpose"},
			tc{manager, userOf(manager), act, "quality-assurance", "", active, false, "reason is required"},
			tc{manager, userOf(manager), act, "quality-assurance", "qa", active, false, "at least 3 words"},
			tc{manager, userOf(manager), act, "quality-assurance", "a b c", active, false, "15 characters"},
			tc{manager, userOf(manager), act, "quality-assurance", "ticket 4711 review\nsecond line", active, false, "one line"},
			tc{manager, userOf(manager), act, "quality-assurance", strings.Repeat("word ", 101), active, false, "longer than 500"},
			tc{manager, &access.User{Name: "mats", Role: access.RoleLineManager, Disabled: true}, act, "quality-assurance", goodReason, active, false, "disabled"},
			tc{manager, nil, act, "quality-assurance", goodReason, active, false, "not known"},
			tc{manager, &access.User{Name: "mats", Role: access.RoleSecurityOfficer}, act, "quality-assurance", goodReason, active, false, "not known"},
			// Separation of duties: an officer never reaches recordings, grant or not.
			tc{officer, userOf(officer), act, "quality-assurance", goodReason, nil, false, "separation of duties"},
			tc{host, nil, act, "quality-assurance", goodReason, nil, false, "needs a tool user"},
			tc{system, nil, act, "quality-assurance", goodReason, nil, false, "not a system action"},
		)
	}
	// One second before expiry the grant holds; at expiry it does not.
	cases = append(cases,
		tc{manager, userOf(manager), access.ActionListen, "quality-assurance", goodReason, grant(func(g *access.Grant) { g.ExpiresAt = now.Add(time.Second) }), true, ""},
		tc{manager, userOf(manager), access.ActionListen, "quality-assurance", goodReason, append(expired, active...), true, ""},
	)
	// Officer's duties; a line manager and the host may do none of them.
	for _, act := range []access.Action{access.ActionManageUsers, access.ActionReadAudit, access.ActionVerifyAudit} {
		cases = append(cases, tc{officer, userOf(officer), act, "", "", nil, true, ""},
			tc{manager, userOf(manager), act, "", goodReason, active, false, "a line manager may not"},
			tc{officer, &access.User{Name: "olga", Role: access.RoleSecurityOfficer, Disabled: true}, act, "", goodReason, nil, false, "disabled"})
	}
	for _, act := range []access.Action{access.ActionManageGrants, access.ActionManagePurposes, access.ActionDSAR, access.ActionWithdraw} {
		cases = append(cases, tc{officer, userOf(officer), act, "", goodReason, nil, true, ""},
			tc{officer, userOf(officer), act, "", "", nil, false, "reason is required"},
			tc{officer, userOf(officer), act, "", "because", nil, false, "at least 3 words"},
			tc{manager, userOf(manager), act, "", goodReason, active, false, "a line manager may not"},
			tc{host, nil, act, "", goodReason, nil, act == access.ActionWithdraw, "needs a tool user"})
	}
	// Host commands: the OS account only; tool users do them through no path of theirs.
	for _, act := range []access.Action{access.ActionHostRead, access.ActionWithdraw, access.ActionForceSweep} {
		cases = append(cases, tc{host, nil, act, "", "", nil, true, ""},
			tc{officer, userOf(officer), act, "", goodReason, nil, act == access.ActionWithdraw, "may not"},
			tc{manager, userOf(manager), act, "", goodReason, active, false, "may not"},
			tc{system, nil, act, "", "", nil, false, "not a system action"})
	}
	cases = append(cases, tc{host, nil, access.ActionVerifyAudit, "", "", nil, true, ""},
		tc{system, nil, access.ActionVerifyAudit, "", "", nil, true, ""},
		tc{host, nil, access.ActionReadAudit, "", "", nil, false, "needs a tool user"},
		tc{access.Actor{Kind: "alien", Name: "x"}, nil, access.ActionHostRead, "", "", nil, false, "unknown actor"})

	for i, c := range cases {
		t.Run(fmt.Sprintf("%d_%s_%s_%s", i, c.actor.Name, c.action, c.purpose), func(t *testing.T) {
			d := access.Authorize(c.actor, c.user, c.action, c.purpose, c.reason, now, c.grants, purposes)
			if d.Allowed != c.allow {
				t.Fatalf("allowed = %v (%s), want %v", d.Allowed, d.Why, c.allow)
			}
			if !c.allow && !strings.Contains(d.Why, c.why) {
				t.Fatalf("why = %q, want it to say %q", d.Why, c.why)
			}
			if c.allow && c.actor.Role == access.RoleLineManager && d.Grant != 7 {
				t.Fatalf("grant = %d, want 7", d.Grant)
			}
		})
	}
}

func TestCheckReason(t *testing.T) {
	for reason, ok := range map[string]bool{
		goodReason: true, "  review of call 123  ": true, "qa": false, "ticket 1": false, "a b c d e": false,
		"three words only!": true, "tab\tinside the reason": false,
	} {
		if got := access.CheckReason(reason) == ""; got != ok {
			t.Errorf("CheckReason(%q) valid = %v, want %v", reason, got, ok)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short": false, "correct horse battery": true, "mats-is-my-password": false, "MATS12345678": false,
		strings.Repeat("x", 257): false, "line\nbreak in it": false,
	} {
		if got := access.CheckPassword("mats", pw) == nil; got != ok {
			t.Errorf("CheckPassword(%q) = %v, want %v", pw, got, ok)
		}
	}
}

func TestFailureDelay(t *testing.T) {
	want := []time.Duration{0, 0, 0, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 64 * time.Second, 128 * time.Second, time.Hour, time.Hour}
	for n, w := range want {
		if got := access.FailureDelay(n); got != w {
			t.Errorf("FailureDelay(%d) = %v, want %v", n, got, w)
		}
	}
}
