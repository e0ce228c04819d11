package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/web"
)

// TestAccessCLI_TextQuoted: a refused search's purpose and reason with a terminal escape and a
// forged row reach `audit list` as one harmless, clipped row; table cells quote what is not
// printable instead of sending it to the terminal.
func TestAccessCLI_TextQuoted(t *testing.T) {
	cheapHashing(t)
	ctx := context.Background()
	cfg := testConfig(t)
	const olgaPW, matsPW = "officer password 1", "manager password 2"
	as := func(name string, lines ...string) identityOptions {
		return identityOptions{As: name, secrets: stdin(lines...)}
	}
	var out bytes.Buffer
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(runUsersAdd(ctx, cfg, usersOptions{Role: "security-officer", identityOptions: as("", olgaPW)}, "olga", &out))
	must(runUsersAdd(ctx, cfg, usersOptions{Role: "line-manager", identityOptions: as("olga", olgaPW, matsPW)}, "mats", &out))
	err := runSearch(ctx, cfg, recordOptions{identityOptions: as("mats", matsPW), Purpose: "qa\x1b[2J",
		Reason: "x\n99  2026-11-30 10:00:00  kari  line-manager  listen  ok" + strings.Repeat(" padding", 16<<10), Limit: 10}, &out)
	if consent.ErrorCode(err) != consent.ECONFLICT {
		t.Fatalf("search without a grant: %v", err)
	}
	out.Reset()
	must(runAuditList(ctx, cfg, auditOptions{usersOptions: usersOptions{identityOptions: as("olga", olgaPW)}, Action: "search", Limit: 100}, &out, &bytes.Buffer{}))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if strings.Contains(out.String(), "\x1b") || len(lines) != 2 || strings.Contains(out.String(), "\n99 ") || len(lines[1]) > 2000 {
		t.Errorf("audit list of a refused search (%d lines, %d bytes):\n%q", len(lines), len(out.String()), out.String()[:min(len(out.String()), 400)])
	}

	// Entries stored before text was cleaned, and the other tables' values, are quoted.
	if got := cell("x\n99 forged\x1b[2J"); got != `"x\n99 forged\x1b[2J"` {
		t.Errorf("cell = %s", got)
	}
	if got := cell(""); got != "-" {
		t.Errorf("cell of nothing = %q", got)
	}
}

// TestAuditList_ActorKind: --actor takes the actor as the table shows it: host:ACCOUNT finds the
// host's entries (the store keeps the bare name and the kind apart), a bare name any kind.
func TestAuditList_ActorKind(t *testing.T) {
	cheapHashing(t)
	ctx := context.Background()
	cfg := testConfig(t)
	const olgaPW = "officer password 1"
	if err := runUsersAdd(ctx, cfg, usersOptions{Role: "security-officer", identityOptions: identityOptions{secrets: stdin(olgaPW)}}, "olga", &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	list := func(actor string) []entryJSON {
		t.Helper()
		var out bytes.Buffer
		err := runAuditList(ctx, cfg, auditOptions{usersOptions: usersOptions{identityOptions: identityOptions{As: "olga", secrets: stdin(olgaPW)}, Output: outputJSON},
			Actor: actor, Limit: 100}, &out, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		var got []entryJSON
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	host := hostActor().Name
	got := list("host:" + host)
	if len(got) != 3 || got[2].Action != "user.bootstrap" {
		t.Fatalf("--actor host:%s: %+v", host, got)
	}
	for _, e := range got {
		if e.ActorKind != "host" || e.Actor != host {
			t.Errorf("--actor host:%s gave %s:%s", host, e.ActorKind, e.Actor)
		}
	}
	if got := list("system:" + host); len(got) != 0 {
		t.Errorf("--actor system:%s: %+v", host, got)
	}
	if got := list(host); len(got) == 0 {
		t.Errorf("--actor %s (bare) found nothing", host)
	}
}

// TestUsersUnlock_Host: `users unlock NAME` without --as runs as the host account, so a locked
// out officer can be let in again; other user changes still need --as.
func TestUsersUnlock_Host(t *testing.T) {
	cheapHashing(t)
	ctx := context.Background()
	cfg := testConfig(t)
	const olgaPW = "officer password 1"
	var out bytes.Buffer
	if err := runUsersAdd(ctx, cfg, usersOptions{Role: "security-officer", identityOptions: identityOptions{secrets: stdin(olgaPW)}}, "olga", &out); err != nil {
		t.Fatal(err)
	}
	for range access.LockoutFailures {
		runUsersList(ctx, cfg, usersOptions{identityOptions: identityOptions{As: "olga", secrets: stdin("not the password at all")}}, &out)
	}
	if err := runUsersList(ctx, cfg, usersOptions{identityOptions: identityOptions{As: "olga", secrets: stdin(olgaPW)}}, &out); !errors.Is(err, access.ErrLoginFailed) {
		t.Fatalf("locked officer: %v", err)
	}
	if err := runUsersChange(ctx, cfg, usersOptions{identityOptions: identityOptions{secrets: stdin()}}, "unlock", "olga", &out); err != nil {
		t.Fatalf("host unlock: %v", err)
	}
	if err := runUsersList(ctx, cfg, usersOptions{identityOptions: identityOptions{As: "olga", secrets: stdin(olgaPW)}}, &out); err != nil {
		t.Fatalf("login after the host's unlock: %v", err)
	}
	err := runUsersChange(ctx, cfg, usersOptions{identityOptions: identityOptions{secrets: stdin()}, Reason: "no reason at all here"}, "disable", "olga", &out)
	if consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), "--as") {
		t.Fatalf("disable without --as: %v", err)
	}
}

// TestUsersPasswd_ResetSingleUse: an officer's reset of a line manager's password lets whoever
// knows it do nothing but set the user's own: search is refused, the web sign-in says what to
// do, and `users passwd NAME --as NAME` works.
func TestUsersPasswd_ResetSingleUse(t *testing.T) {
	cheapHashing(t)
	ctx := context.Background()
	cfg := testConfig(t)
	const olgaPW, matsPW, resetPW, ownPW = "officer password 1", "manager password 2", "reset by the officer", "a password only he knows"
	as := func(name string, lines ...string) identityOptions {
		return identityOptions{As: name, secrets: stdin(lines...)}
	}
	var out bytes.Buffer
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(runUsersAdd(ctx, cfg, usersOptions{Role: "security-officer", identityOptions: as("", olgaPW)}, "olga", &out))
	must(runUsersAdd(ctx, cfg, usersOptions{Role: "line-manager", identityOptions: as("olga", olgaPW, matsPW)}, "mats", &out))
	g := grantsOptions{usersOptions: usersOptions{identityOptions: as("olga", olgaPW), Reason: "new QA lead for the Oslo team"}, Purposes: []string{"quality-assurance"}, Expires: expiryFlag{timeFlag: timeFlag{time.Now().Add(48 * time.Hour)}}}
	must(runGrantsAdd(ctx, cfg, g, "mats", &out))
	must(runUsersChange(ctx, cfg, usersOptions{identityOptions: as("olga", olgaPW, resetPW)}, "passwd", "mats", &out))

	search := recordOptions{Purpose: "quality-assurance", Reason: "complaint 4711 about agent tone", Limit: 10}
	search.identityOptions = as("mats", resetPW)
	if err := runSearch(ctx, cfg, search, &out); consent.ErrorCode(err) != consent.ECONFLICT || !strings.Contains(err.Error(), "users passwd mats --as mats") {
		t.Fatalf("search with the officer's reset password: %v", err)
	}
	st, err := openStore(ctx, cfg)
	must(err)
	svc, err := openAccess(ctx, cfg, st.DB, nil)
	must(err)
	b := &webAccess{svc: svc, now: time.Now}
	if _, err := b.Login(ctx, "mats", resetPW); web.Kind(err) != web.KindLocked || web.Message(err) != web.LoginMustChange {
		t.Fatalf("web sign-in with a reset password: %v", err)
	}
	st.Close()

	must(runUsersChange(ctx, cfg, usersOptions{identityOptions: as("mats", resetPW, ownPW)}, "passwd", "mats", &out))
	search.identityOptions = as("mats", ownPW)
	must(runSearch(ctx, cfg, search, &out))
}

// TestGrantsAdd_ExpiresDay: --expires YYYY-MM-DD runs the grant through the whole of that day
// in time-zone, as the web console reads its date (it ended at midnight UTC, an hour into that
// day in Oslo, so the CLI and the console gave different grants for the same date); a time is
// taken as given.
func TestGrantsAdd_ExpiresDay(t *testing.T) {
	var f expiryFlag
	if err := f.Set("2027-03-01"); err != nil {
		t.Fatal(err)
	}
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.in(oslo), time.Date(2027, 3, 1, 23, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("--expires 2027-03-01 in Oslo ends %v, want %v (the end of March 1st there)", got, want)
	}
	if err := f.Set("2027-03-01 12:00"); err != nil {
		t.Fatal(err)
	}
	if got, want := f.in(oslo), time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("--expires '2027-03-01 12:00' ends %v, want %v", got, want)
	}
}
