package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestWithdraw_DryRun: --dry-run lists what a withdrawal by caller or by call would take and
// changes nothing: no call, no recording, no file; it is audited as a host read, since it shows
// a caller's calls.
func TestWithdraw_DryRun(t *testing.T) {
	dir := t.TempDir()
	cfg, err := LoadConfig("", false, testFlags(t, "--data-dir", dir))
	if err != nil {
		t.Fatal(err)
	}
	seedCalls(t, cfg)
	before := listCalls(t, cfg, callsListOptions{Output: outputJSON})

	code, stdout, stderr := runArgs(t, dir, "withdraw", "--caller", "+47 22 33 44 55", "--dry-run")
	if code != exitOK || !strings.HasPrefix(stdout, "dry run, nothing changed: withdrawing would take 1 call(s), deleting 1 recording(s) (2080044 bytes) at once\n") ||
		!strings.Contains(stdout, uuidGranted) || strings.Contains(stdout, uuidDeclined) {
		t.Errorf("dry run by caller: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runArgs(t, dir, "withdraw", "--call", uuidNoInput, "--dry-run", "--output", "json")
	var p withdrawPreview
	if err := json.Unmarshal([]byte(stdout), &p); code != exitOK || err != nil || !p.DryRun || len(p.Calls) != 1 || p.AlreadyWithdrawn != 1 || p.Recordings != 0 {
		t.Errorf("dry run by call: exit %d, %v, %+v\n%s%s", code, err, p, stdout, stderr)
	}
	if code, _, stderr := runArgs(t, dir, "withdraw", "--caller", "+47 99 99 99 99", "--dry-run"); code != exitNotFound ||
		stderr != "callconsent: withdraw: no calls of that caller; nothing would be withdrawn\n" {
		t.Errorf("dry run of an unknown caller: exit %d, %q", code, stderr)
	}
	if c := findCall(t, cfg, uuidGranted); c.Withdrawn() || c.Recording.State != "complete" {
		t.Errorf("the dry run withdrew: %+v", c)
	}
	if after := listCalls(t, cfg, callsListOptions{Output: outputJSON}); after != before {
		t.Errorf("the dry run changed the calls:\n%s\n%s", before, after)
	}
	audit := auditTable(t, cfg.DB)
	if n := strings.Count(audit, "withdraw --dry-run"); n != 2 || !strings.Contains(audit, "withdraw --dry-run by caller") ||
		!strings.Contains(audit, "showed 1 calls") || strings.Contains(audit, "22 33 44 55") {
		t.Errorf("want the two dry runs that found calls audited as host reads, without the number:\n%s", audit)
	}
}

// TestWithdraw_ConfirmOnTerminal: a withdrawal by caller on a terminal says what it takes and
// asks; anything but yes withdraws nothing.
func TestWithdraw_ConfirmOnTerminal(t *testing.T) {
	cfg := testConfig(t)
	seedCalls(t, cfg)
	os.MkdirAll(cfg.RecordingsDir, 0o750)
	terminal := func() bool { return true }
	var out bytes.Buffer
	opts := withdrawOptions{Caller: "+47 22 33 44 55", Reason: "ticket 5", stdin: strings.NewReader("no\n"), terminal: terminal}
	err := runWithdraw(t.Context(), cfg, opts, &out)
	question := "withdraw consent for 1 call(s), deleting 1 recording(s) (2080044 bytes) at once?\n(--dry-run lists them; --yes skips this question)\nType yes to go on: "
	if err == nil || err.Error() != "withdraw: not confirmed; nothing withdrawn" || exitCode(err, true) != exitError || out.String() != question {
		t.Fatalf("answer no: %v, exit %d\n%q", err, exitCode(err, true), out.String())
	}
	if findCall(t, cfg, uuidGranted).Withdrawn() {
		t.Fatal("withdrawn after no")
	}
	out.Reset()
	opts.stdin = strings.NewReader("yes\n")
	if err := runWithdraw(t.Context(), cfg, opts, &out); err != nil || !strings.Contains(out.String(), "consent withdrawn directly") {
		t.Fatalf("answer yes: %v\n%s", err, out.String())
	}
	if !findCall(t, cfg, uuidGranted).Withdrawn() {
		t.Fatal("not withdrawn after yes")
	}
	// --yes and a stdin that is no terminal do not ask.
	for _, o := range []withdrawOptions{
		{Caller: "004791234567", Reason: "ticket 6", Yes: true, stdin: strings.NewReader(""), terminal: terminal},
		{Call: uuidNoInput, Reason: "ticket 7", stdin: strings.NewReader(""), terminal: terminal},
	} {
		out.Reset()
		if err := runWithdraw(t.Context(), cfg, o, &out); err != nil || strings.Contains(out.String(), "Type yes") {
			t.Errorf("%+v: %v\n%s", o, err, out.String())
		}
	}
}
