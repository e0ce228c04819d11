package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/access"
)

const (
	exportPassword = "correct horse battery staple 42"
	dsarNumber     = "+47 912 34 567"
	otherNumber    = "+47 987 65 432"
	uuidMine       = "11111111-2222-4333-8444-555555555555"
	uuidMineNo     = "11111111-2222-4333-8444-666666666666"
	uuidMineGone   = "11111111-2222-4333-8444-777777777777"
	uuidMineWd     = "11111111-2222-4333-8444-888888888888"
	uuidTheirs     = "99999999-2222-4333-8444-555555555555"
)

// TestBinary_Exports drives dsar and export through the built binary: refusals without role,
// grant, purpose or reason (each in the audit log), a training export and an access archive
// checked byte by byte, and calls show naming the export after a withdrawal.
func TestBinary_Exports(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "callconsent")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	exportWorld(t, dir)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(exportPassword+"\n"), 0o600)
	out := t.TempDir()
	var logs bytes.Buffer
	cc := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--data-dir", dir, "--config", filepath.Join(dir, "none.yaml")}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		logs.WriteString(e.String())
		return cmd.ProcessState.ExitCode(), o.String(), e.String()
	}
	os.WriteFile(filepath.Join(dir, "none.yaml"), nil, 0o600)
	const why = "example for the december onboarding course"
	exp := func(as, uuid, purpose, reason, name string, extra ...string) (int, string, string) {
		args := []string{"export", uuid, "--as", as, "--password-file", pwFile, "--purpose", purpose, "--reason", reason, "--out", filepath.Join(out, name+".wav")}
		return cc("", append(args, extra...)...)
	}

	for _, tc := range []struct {
		name                      string
		as, uuid, purpose, reason string
		code                      int
		stderr                    string
		extra                     []string
	}{
		{"ErrNoGrant", "ola", uuidMine, "training", why, exitConflict, "no grant", nil},
		{"ErrOfficer", "anne", uuidMine, "training", why, exitConflict, "separation of duties", nil},
		{"ErrNoReason", "kari", uuidMine, "training", "", exitConflict, "reason is required", nil},
		{"ErrPurpose", "kari", uuidMine, "quality-assurance", why, exitConflict, "--purpose training", nil},
		{"ErrGone", "kari", uuidMineGone, "training", why, exitConflict, "is gone", nil},
		{"ErrDeclined", "kari", uuidMineNo, "training", why, exitConflict, "no consent", nil},
		{"ErrMuteBeyond", "kari", uuidMine, "training", why, exitUsage, "only 2s long", []string{"--mute", "1-3"}},
		{"ErrMuteSyntax", "kari", uuidMine, "training", why, exitUsage, "e.g. 12.5-15.25", []string{"--mute", "1..3"}},
	} {
		code, _, stderr := exp(tc.as, tc.uuid, tc.purpose, tc.reason, tc.name, tc.extra...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want %d and one line saying %q", tc.name, code, stderr, tc.code, tc.stderr)
		}
	}
	if code, _, stderr := cc("wrong password\n", "export", uuidMine, "--as", "kari", "--purpose", "training", "--reason", why, "--out", filepath.Join(out, "pw.wav")); code != exitConflict || !strings.Contains(stderr, "login failed") {
		t.Errorf("wrong password: exit %d, %q", code, stderr)
	}
	code, stdout, stderr := exp("kari", uuidMine, "training", why, "ok", "--mute", "caller:0.5-1", "--output", "json")
	if code != 0 {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	var res struct {
		ExportID string `json:"export_id"`
	}
	json.Unmarshal([]byte(stdout), &res)
	wav, _ := os.ReadFile(filepath.Join(out, "ok.wav"))
	side, _ := os.ReadFile(filepath.Join(out, "ok.json"))
	if len(wav) != 64044 || !strings.Contains(string(side), res.ExportID) || res.ExportID == "" {
		t.Fatalf("export wrote %d bytes, sidecar %s, output %s", len(wav), side, stdout)
	}
	for _, b := range [][]byte{wav, side} {
		if bytes.Contains(b, []byte(uuidMine)) || bytes.Contains(b, []byte(dir)) {
			t.Error("the export names the call or its path")
		}
	}

	// The access archive: refused without the role or a reason, then made from stdin's number.
	if code, _, stderr := cc("", "dsar", "--as", "kari", "--password-file", pwFile, "--caller", dsarNumber, "--reason", "access request ticket 4711", "--out", filepath.Join(out, "k.zip")); code != exitConflict || !strings.Contains(stderr, "may not") {
		t.Errorf("dsar by a line manager: exit %d, %q", code, stderr)
	}
	if code, _, stderr := cc("", "dsar", "--as", "anne", "--password-file", pwFile, "--caller", dsarNumber, "--out", filepath.Join(out, "r.zip")); code != exitConflict || !strings.Contains(stderr, "reason is required") {
		t.Errorf("dsar without a reason: exit %d, %q", code, stderr)
	}
	if code, _, stderr := cc(dsarNumber+"\n", "dsar", "--as", "anne", "--caller", "-", "--reason", "access request ticket 4711", "--out", filepath.Join(out, "s.zip")); code != exitUsage || !strings.Contains(stderr, "--password-file") {
		t.Errorf("dsar with number and password both on stdin: exit %d, %q", code, stderr)
	}
	code, stdout, stderr = cc(dsarNumber+"\n", "dsar", "--as", "anne", "--password-file", pwFile, "--caller", "-", "--reason", "access request ticket 4711", "--out", filepath.Join(out, "a.zip"), "--dry-run")
	if code != 0 || !strings.Contains(stdout, "dry run") || !strings.Contains(stdout, uuidMineGone) {
		t.Errorf("dsar --dry-run: exit %d, %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = cc(dsarNumber+"\n", "dsar", "--as", "anne", "--password-file", pwFile, "--caller", "-", "--reason", "access request ticket 4711", "--out", filepath.Join(out, "a.zip"))
	if code != 0 {
		t.Fatalf("dsar: exit %d, %s", code, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(out, "a.zip"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if !strings.Contains(stdout, "sha256: "+hex.EncodeToString(sum[:])) {
		t.Errorf("dsar printed %q; the archive's sha256 is %x", stdout, sum)
	}
	entries := unzipAll(t, filepath.Join(out, "a.zip"))
	var m struct {
		Calls []struct {
			UUID string `json:"uuid"`
		} `json:"calls"`
		Audit []struct {
			Seq                   int64
			Action, Actor, Result string
			Calls                 []string
		} `json:"audit"`
	}
	if err := json.Unmarshal(entries["manifest.json"], &m); err != nil || len(m.Calls) != 4 || entries["audio/"+uuidMine+".wav"] == nil {
		t.Fatalf("manifest: %v, %d calls, files %d", err, len(m.Calls), len(entries))
	}
	// Every audit entry about the caller's calls: the export and all the refused attempts on them.
	var exportsSeen, deniedSeen int
	for _, a := range m.Audit {
		if a.Action == "export" && a.Result == "ok" && a.Actor == "kari" {
			exportsSeen++
		} else if a.Action == "export" && a.Result == "denied" {
			deniedSeen++
		}
	}
	if exportsSeen != 1 || deniedSeen != 6 {
		t.Errorf("archive's audit: %d ok exports, %d denied; want 1 and 6: %+v", exportsSeen, deniedSeen, m.Audit)
	}
	// Exactly the entries the audit log holds about the four calls, up to the archive's own.
	var inArchive, inLog []int64
	for _, a := range m.Audit {
		inArchive = append(inArchive, a.Seq)
	}
	for _, e := range auditAbout(t, dir, uuidMine, uuidMineNo, uuidMineGone, uuidMineWd) {
		// The archive's own entries (its dsar.started, written before its first byte, and its
		// dsar) come after what it holds.
		own := e.Action == "dsar.started" && len(inArchive) > 0 && e.Seq > inArchive[len(inArchive)-1]
		if !own && (e.Action != "dsar" || e.Result != access.ResultOK || strings.Contains(e.Detail, "dry run")) {
			inLog = append(inLog, e.Seq)
		}
	}
	if fmt.Sprint(inArchive) != fmt.Sprint(inLog) {
		t.Errorf("audit entries in the archive %v; the log has %v about these calls", inArchive, inLog)
	}
	secrets := []string{dsarNumber, "4791234567", "91234567", otherNumber, "98765432", uuidTheirs, exportPassword}
	for name, b := range entries {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("archive entry %s holds %q", name, s)
			}
		}
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the archive holds %q", s)
		}
	}

	// After a withdrawal, calls show names the export so the copy can be removed.
	code, stdout, stderr = cc("", "withdraw", "--call", uuidMine, "--reason", "ticket 4713")
	if code != 0 || !strings.Contains(stdout, res.ExportID+"  from "+uuidMine+", by kari") {
		t.Fatalf("withdraw: exit %d, %s%s", code, stdout, stderr)
	}
	code, stdout, _ = cc("", "calls", "show", uuidMine)
	if code != 0 || !strings.Contains(stdout, res.ExportID+"  by kari") || !strings.Contains(stdout, "have every copy above removed") {
		t.Errorf("calls show after the withdrawal:\n%s", stdout)
	}
	if code, _, stderr := exp("kari", uuidMine, "training", why, "after"); code != exitConflict || !strings.Contains(stderr, "withdrew consent") {
		t.Errorf("export after the withdrawal: exit %d, %q", code, stderr)
	}

	// Every attempt that got past the login is in the audit log.
	counts := auditCounts(t, dir)
	if counts["export/ok"] != 1 || counts["export/denied"] != 7 || counts["dsar/ok"] != 2 || counts["dsar/denied"] != 2 {
		t.Errorf("audit log: %v", counts)
	}
	for _, s := range secrets {
		if strings.Contains(logs.String(), s) {
			t.Errorf("a command's stderr holds %q", s)
		}
	}
}
