package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
)

// TestE2E_AccessCLI is the worked example through the built binary, beside a running
// daemon with one recorded call: bootstrap a security officer, add a line manager, grant
// quality-assurance until tomorrow, search without a reason (refused) and with one, listen to
// the recorded call, revoke, search again (refused); audit list shows every step with its
// actor, purpose and reason; audit verify exits 0, and 5 after the log was tampered with. No
// password, hash or caller number appears in any output, log line or audit entry.
func TestE2E_AccessCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "callconsent")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	h := startHarness(t, fakefs.Config{})
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: minRecording})
	call := h.finalCall(res.UUID)
	if call.Recording == nil || call.Recording.State != consent.RecordingComplete {
		t.Fatalf("no complete recording: %+v", call.Recording)
	}
	cfgFile := filepath.Join(t.TempDir(), "callconsent.yaml")
	os.WriteFile(cfgFile, []byte("log-level: info\n"), 0o600)

	const (
		officerPW = "officer password 1"
		managerPW = "manager password 2"
		grantWhy  = "QA lead for the Oslo team"
		searchWhy = "complaint 4711 about agent tone"
		revokeWhy = "moved to the sales department"
	)
	var outputs bytes.Buffer // everything the CLI printed, for the grep at the end
	cli := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--config", cfgFile, "--data-dir", h.dir}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		outputs.Write(out.Bytes())
		outputs.Write(errOut.Bytes())
		return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
	}
	want := func(code int, wantCode int, stdout, stderr, what string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", what, code, wantCode, stdout, stderr)
		}
	}

	code, out, errOut := cli(officerPW+"\n", "users", "add", "olga", "--role", "security-officer")
	want(code, 0, out, errOut, "bootstrap")
	code, out, errOut = cli(officerPW+"\n", "users", "add", "eve", "--role", "security-officer")
	want(code, 4, out, errOut, "second bootstrap")
	if !strings.Contains(errOut, "--as NAME") {
		t.Fatalf("second bootstrap: %s", errOut)
	}
	code, out, errOut = cli(officerPW+"\n"+managerPW+"\n", "users", "add", "mats", "--role", "line-manager", "--as", "olga")
	want(code, 0, out, errOut, "add line manager")
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
	code, out, errOut = cli(officerPW+"\n", "grants", "add", "mats", "--purpose", "quality-assurance", "--expires", tomorrow, "--reason", grantWhy, "--as", "olga")
	want(code, 0, out, errOut, "grant")
	search := []string{"search", "--as", "mats", "--purpose", "quality-assurance", "--output", "json"}
	code, out, errOut = cli(managerPW+"\n", search...)
	want(code, 4, out, errOut, "search without a reason")
	if !strings.Contains(errOut, "reason is required") || out != "" {
		t.Fatalf("search without a reason: stdout %q stderr %q", out, errOut)
	}
	code, out, errOut = cli(managerPW+"\n", append(search, "--reason", searchWhy)...)
	want(code, 0, out, errOut, "search")
	var found []searchJSON
	if err := json.Unmarshal([]byte(out), &found); err != nil || len(found) != 1 || found[0].UUID != call.UUID {
		t.Fatalf("search found %s (%v), want the one call %s", out, err, call.UUID)
	}
	copyPath := filepath.Join(t.TempDir(), "call.wav")
	code, out, errOut = cli(managerPW+"\n", "listen", call.UUID, "--out", copyPath, "--as", "mats", "--purpose", "quality-assurance", "--reason", searchWhy)
	want(code, 0, out, errOut, "listen")
	got, _ := os.ReadFile(copyPath)
	orig, _ := os.ReadFile(call.Recording.Path)
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o600 || len(got) == 0 || !bytes.Equal(got, orig) {
		t.Fatalf("listen copy: %v, %d bytes of %d", err, len(got), len(orig))
	}
	code, out, errOut = cli(managerPW+"\n", "listen", call.UUID, "--out", copyPath, "--as", "mats", "--purpose", "quality-assurance", "--reason", searchWhy)
	want(code, 4, out, errOut, "listen onto an existing file")
	code, out, errOut = cli(officerPW+"\n", "grants", "revoke", "1", "--reason", revokeWhy, "--as", "olga")
	want(code, 0, out, errOut, "revoke")
	code, out, errOut = cli(managerPW+"\n", append(search, "--reason", searchWhy)...)
	want(code, 4, out, errOut, "search after revoke")
	if !strings.Contains(errOut, "revoked") {
		t.Fatalf("search after revoke: %s", errOut)
	}
	// The host operator's read is audited with the OS account.
	code, out, errOut = cli("", "calls", "list", "--reason", "checking last night's calls")
	want(code, 0, out, errOut, "calls list")

	// A withdrawal through the running daemon: the command audits who asked and why, the
	// daemon what it withdrew.
	code, out, errOut = cli("", "withdraw", "--call", call.UUID, "--reason", "ticket 99")
	want(code, 0, out, errOut, "withdraw")

	code, out, errOut = cli(officerPW+"\n", "audit", "list", "--as", "olga", "--output", "json")
	want(code, 0, out, errOut, "audit list")
	var entries []entryJSON
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatal(err)
	}
	host := hostActor().Name
	type step struct{ actor, action, result, purpose, reason, object string }
	steps := []step{
		{host, "user.bootstrap", "ok", "", "", "user:olga"},
		{host, "user.bootstrap", "denied", "", "", "user:eve"},
		{"olga", "user.add", "ok", "", "", "user:mats"},
		{"olga", "grant.add", "ok", "quality-assurance", grantWhy, "grant:1"},
		{"mats", "search", "denied", "quality-assurance", "", ""},
		{"mats", "search", "ok", "quality-assurance", searchWhy, "call:" + call.UUID},
		{"mats", "listen", "ok", "quality-assurance", searchWhy, "call:" + call.UUID},
		{"olga", "grant.revoke", "ok", "quality-assurance", revokeWhy, "grant:1"},
		{"mats", "search", "denied", "quality-assurance", searchWhy, ""},
		{host, "host-read", "ok", "", "checking last night's calls", "call:" + call.UUID},
		{host, "withdraw", "ok", "", "ticket 99", "call:" + call.UUID},
	}
	i := 0
	for _, e := range entries {
		if i == len(steps) {
			break
		}
		s := steps[i]
		objs := ""
		for _, o := range e.Objects {
			objs += " " + o.Kind + ":" + o.ID
		}
		if e.Actor == s.actor && e.Action == s.action && e.Result == s.result && e.Purpose == s.purpose && e.Reason == s.reason && strings.Contains(objs+" ", " "+s.object) {
			i++
		}
	}
	if i < len(steps) {
		t.Fatalf("audit list lacks step %d %+v in order; it has:\n%s", i, steps[i], out)
	}
	if last := entries[len(entries)-1]; last.Action != "login" || last.Actor != "olga" {
		t.Fatalf("the audit list's own login is not the last entry: %+v", last)
	}
	daemonSide := 0
	for _, e := range entries {
		if e.Action == "withdraw.done" && e.Actor == "daemon" && e.ActorKind == "system" && e.Reason == "ticket 99" && len(e.Objects) == 1 && e.Objects[0].ID == call.UUID {
			daemonSide++
		}
	}
	if daemonSide != 1 {
		t.Fatalf("the daemon's side of the withdrawal is audited %d times:\n%s", daemonSide, out)
	}

	code, out, errOut = cli("", "audit", "verify")
	want(code, 0, out, errOut, "audit verify")

	// No password, hash or caller number in any output, log line or audit entry.
	h.assertNoCallerData("after the CLI")
	auditText := auditTable(t, h.cfg.DB)
	for _, secret := range append([]string{officerPW, managerPW, "$argon2id", "argon2id$"}, callerData...) {
		for what, text := range map[string]string{"CLI output": outputs.String(), "daemon log": h.logs.String(), "audit log": auditText} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains %q", what, secret)
			}
		}
	}
	dbBytes, _ := os.ReadFile(h.cfg.DB)
	wal, _ := os.ReadFile(h.cfg.DB + "-wal")
	for _, pw := range []string{officerPW, managerPW} {
		if bytes.Contains(dbBytes, []byte(pw)) || bytes.Contains(wal, []byte(pw)) {
			t.Errorf("database holds the password %q in clear", pw)
		}
	}

	// Tampering: the listen's reason rewritten, as someone with the sqlite3 shell would.
	tamper := `DROP TRIGGER audit_log_no_update; UPDATE audit_log SET reason = 'routine check' WHERE action = 'listen';`
	if sqlite3, err := exec.LookPath("sqlite3"); err == nil {
		if out, err := exec.Command(sqlite3, h.cfg.DB, tamper).CombinedOutput(); err != nil {
			t.Fatalf("sqlite3: %v\n%s", err, out)
		}
	} else {
		t.Logf("no sqlite3 shell (%v): tampering through database/sql", err)
		db, err := sql.Open("sqlite3", h.cfg.DB)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(tamper); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	code, out, errOut = cli("", "audit", "verify")
	want(code, 5, out, errOut, "audit verify after tampering")
	if !strings.Contains(out, "changed at seq") || !strings.Contains(errOut, "tampered") {
		t.Fatalf("audit verify after tampering: stdout %q stderr %q", out, errOut)
	}
	var listen access.Entry
	for _, e := range entries {
		if e.Action == "listen" {
			listen.Seq = e.Seq
		}
	}
	if !strings.Contains(out, "entry "+itoa64(listen.Seq)+" was changed") {
		t.Fatalf("verify does not name the listen entry %d: %s", listen.Seq, out)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// auditTable returns every audit entry's text columns, read directly from the file.
func auditTable(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT actor || ' ' || action || ' ' || purpose || ' ' || reason || ' ' || objects || ' ' || detail FROM audit_log`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var s string
		rows.Scan(&s)
		b.WriteString(s + "\n")
	}
	return b.String()
}
