package main

import (
	"bytes"
	"context"
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
