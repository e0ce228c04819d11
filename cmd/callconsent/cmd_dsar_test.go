package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunDSAR_ProgressBar: on a terminal the archive's progress is drawn on stderr, in MiB,
// and the report on stdout stands alone.
func TestRunDSAR_ProgressBar(t *testing.T) {
	dir := t.TempDir()
	exportWorld(t, dir)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(exportPassword+"\n"), 0o600)
	var out, errw bytes.Buffer
	opts := dsarOptions{Caller: dsarNumber, Reason: "access request ticket 4711", Out: filepath.Join(t.TempDir(), "a.zip"),
		errw: &errw, bar: drawProgressBar}
	opts.As, opts.PasswordFile = "anne", pw
	if err := runDSAR(context.Background(), testConfigDir(t, dir), opts, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errw.String(), "archive (MiB)") || strings.Contains(out.String(), "MiB") || !strings.Contains(out.String(), "sha256: ") {
		t.Errorf("stderr %q, stdout %q", errw.String(), out.String())
	}
}

// TestExports_OutCheckedFirst: an --out that exists or lies in no folder is refused before
// anyone logs in, so a typo neither costs a login nor leaves an audit entry.
func TestExports_OutCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	exportWorld(t, dir)
	cfg := testConfigDir(t, dir)
	taken := filepath.Join(t.TempDir(), "taken.wav")
	os.WriteFile(taken, nil, 0o600)
	before := auditCounts(t, dir)
	ctx := context.Background()
	for name, err := range map[string]error{
		"dsar no folder": runDSAR(ctx, cfg, dsarOptions{identityOptions: identityOptions{As: "anne"}, Caller: dsarNumber, Reason: "access request ticket 4711",
			Out: filepath.Join(dir, "nope", "a.zip")}, io.Discard),
		"export taken": runExport(ctx, cfg, exportOptions{identityOptions: identityOptions{As: "kari"}, Purpose: "training", Reason: "x y z w", Out: taken},
			uuidMine, io.Discard),
	} {
		if err == nil || !(strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "exists")) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if after := auditCounts(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("audit log before %v, after %v", before, after)
	}
}
