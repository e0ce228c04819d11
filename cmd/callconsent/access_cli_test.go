package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/access/argon2id"
	"github.com/callconsent/callconsent/consent"
)

// cheapHashing makes the access commands of this test hash with 1 MiB instead of 64 MiB.
func cheapHashing(t *testing.T) {
	old := newHasher
	newHasher = func() access.Hasher {
		h := argon2id.New()
		h.Params.Memory = 1024
		return h
	}
	t.Cleanup(func() { newHasher = old })
}

// stdin returns a secret reader over the given lines, as a script's stdin.
func stdin(lines ...string) *secretReader {
	return &secretReader{in: bufio.NewReader(strings.NewReader(strings.Join(lines, "\n") + "\n"))}
}

// TestAccessCommands runs the users, grants and purposes commands in-process as a script would:
// passwords from stdin or a file, JSON out, and the refusals' exit codes.
func TestAccessCommands(t *testing.T) {
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
	// The bootstrap has no --as: a --password-file there is a mistake, named, not "no line".
	err := runUsersAdd(ctx, cfg, usersOptions{Role: "security-officer", identityOptions: identityOptions{PasswordFile: "/nonexistent", secrets: stdin()}}, "olga", &out)
	if consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), "--new-password-file") {
		t.Fatalf("bootstrap with --password-file: %v", err)
	}
	must(runUsersAdd(ctx, cfg, usersOptions{Role: "security-officer", identityOptions: as("", olgaPW)}, "olga", &out))
	must(runUsersAdd(ctx, cfg, usersOptions{Role: "line-manager", identityOptions: as("olga", olgaPW, matsPW)}, "mats", &out))

	// A password file: refused when others can read it, taken when private.
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(olgaPW+"\n"), 0o644)
	err = runUsersList(ctx, cfg, usersOptions{identityOptions: identityOptions{As: "olga", PasswordFile: pwFile}}, &out)
	if consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable password file: %v", err)
	}
	os.Chmod(pwFile, 0o600)
	out.Reset()
	must(runUsersList(ctx, cfg, usersOptions{identityOptions: identityOptions{As: "olga", PasswordFile: pwFile}, Output: outputJSON}, &out))
	var users []userJSON
	if err := json.Unmarshal(out.Bytes(), &users); err != nil || len(users) != 2 || users[0].Name != "mats" || users[1].CreatedBy != "host:"+hostActor().Name {
		t.Fatalf("users list: %s (%v)", out.String(), err)
	}
	if strings.Contains(out.String(), "argon2id") {
		t.Fatal("users list shows a hash")
	}

	// A user changes his own password; he may not change another's.
	must(runUsersChange(ctx, cfg, usersOptions{identityOptions: as("mats", matsPW, "a new manager password")}, "passwd", "mats", &out))
	err = runUsersChange(ctx, cfg, usersOptions{identityOptions: as("mats", "a new manager password", "taking over the officer")}, "passwd", "olga", &out)
	if consent.ErrorCode(err) != consent.ECONFLICT {
		t.Fatalf("a line manager set an officer's password: %v", err)
	}
	// Lock mats out, and let olga unlock him.
	for range access.LockoutFailures {
		runUsersList(ctx, cfg, usersOptions{identityOptions: as("mats", "not the password at all")}, &out)
	}
	if err := runUsersChange(ctx, cfg, usersOptions{identityOptions: as("mats", "a new manager password")}, "passwd", "mats", &out); !errors.Is(err, access.ErrLoginFailed) {
		t.Fatalf("locked user logged in: %v", err)
	}
	must(runUsersChange(ctx, cfg, usersOptions{identityOptions: as("olga", olgaPW)}, "unlock", "mats", &out))

	// Purposes: approve one, retire another; policy shows the store's list.
	err = runPurposesChange(ctx, cfg, purposesOptions{usersOptions: usersOptions{identityOptions: as("olga", olgaPW), Reason: "approved by the board in November"}, Description: "complaint handling"}, "add", "complaints", &out)
	must(err)
	must(runPurposesChange(ctx, cfg, purposesOptions{usersOptions: usersOptions{identityOptions: as("olga", olgaPW), Reason: "training now uses role play"}}, "retire", "training", &out))
	out.Reset()
	must(runPolicy(ctx, cfg, policyOptions{Output: outputJSON}, &out))
	var pol policyJSON
	if err := json.Unmarshal(out.Bytes(), &pol); err != nil || strings.Join(pol.Purposes, ",") != "complaints,quality-assurance" || pol.PurposesSource != "store" || len(pol.PurposeRecords) != 3 {
		t.Fatalf("policy purposes: %s (%v)", out.String(), err)
	}

	// Grants: a retired purpose is refused; list and revoke.
	g := grantsOptions{usersOptions: usersOptions{identityOptions: as("olga", olgaPW), Reason: "new QA lead for the Oslo team"}, Purposes: []string{"training"}, Expires: expiryFlag{timeFlag: timeFlag{time.Now().Add(48 * time.Hour)}}}
	if err := runGrantsAdd(ctx, cfg, g, "mats", &out); consent.ErrorCode(err) != consent.EINVALID {
		t.Fatalf("grant for a retired purpose: %v", err)
	}
	g.identityOptions, g.Purposes = as("olga", olgaPW), []string{"complaints", "quality-assurance"}
	must(runGrantsAdd(ctx, cfg, g, "mats", &out))
	must(runGrantsRevoke(ctx, cfg, grantsOptions{usersOptions: usersOptions{identityOptions: as("olga", olgaPW), Reason: "moved to the sales department"}}, "1", &out))
	out.Reset()
	must(runGrantsList(ctx, cfg, grantsOptions{usersOptions: usersOptions{identityOptions: as("olga", olgaPW), Output: outputJSON}, All: true}, &out))
	var grants []grantJSON
	if err := json.Unmarshal(out.Bytes(), &grants); err != nil || len(grants) != 1 || grants[0].State != "revoked" || grants[0].RevokeReason != "moved to the sales department" {
		t.Fatalf("grants list --all: %s (%v)", out.String(), err)
	}
	if err := runGrantsRevoke(ctx, cfg, grantsOptions{usersOptions: usersOptions{identityOptions: as("olga", olgaPW), Reason: "moved to the sales department"}}, "1", &out); consent.ErrorCode(err) != consent.ECONFLICT {
		t.Fatalf("second revoke: %v", err)
	}

	// Disable: mats can no longer log in.
	must(runUsersChange(ctx, cfg, usersOptions{identityOptions: as("olga", olgaPW), Reason: "left the company in November"}, "disable", "mats", &out))
	if err := runSearch(ctx, cfg, recordOptions{identityOptions: as("mats", "a new manager password"), Purpose: "complaints", Reason: "complaint 4711 about agent tone", Limit: 10}, &out); !errors.Is(err, access.ErrLoginFailed) {
		t.Fatalf("disabled user searched: %v", err)
	}
}
