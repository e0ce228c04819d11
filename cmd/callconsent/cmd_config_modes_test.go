package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// config check warns (without failing) about the dated folders and recordings of the last
// days that others may open, and fails a recordings folder open to others (R-SEC-5).
func TestRunConfigCheck_RecordingModes(t *testing.T) {
	ctx := context.Background()
	day := func(cfg *Config, d string) string {
		p := filepath.Join(cfg.RecordingsDir, d)
		if err := os.MkdirAll(p, 0o750); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wav := func(dir, name string, mode os.FileMode) {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("RIFF"), mode)
		os.Chmod(p, mode)
	}
	run := func(cfg *Config) (string, error) {
		var out bytes.Buffer
		err := runConfigCheck(ctx, cfg, &out)
		return out.String(), err
	}

	t.Run("OK", func(t *testing.T) {
		cfg := goodHost(t)
		d := day(cfg, "2026/11/30")
		wav(d, "4f8c2a10-1111-4c3b-9a3e-0d5b7e9c2f11.wav", 0o600)
		wav(d, "4f8c2a10-2222-4c3b-9a3e-0d5b7e9c2f11.wav", 0o640) // FreeSWITCH's, its group only
		out, err := run(cfg)
		if err != nil || !strings.Contains(out, "OK    recordings of the last days: 1 day folder(s), none open to others") {
			t.Errorf("err %v\n%s", err, out)
		}
	})
	t.Run("WarnFilesOpenToOthers", func(t *testing.T) {
		cfg := goodHost(t)
		old := day(cfg, "2026/10/01")
		os.Chmod(old, 0o755)
		wav(old, "4f8c2a10-0000-4c3b-9a3e-0d5b7e9c2f11.wav", 0o644)
		for _, d := range []string{"2026/11/24", "2026/11/25", "2026/11/26", "2026/11/27", "2026/11/28", "2026/11/29"} {
			day(cfg, d)
		}
		d := day(cfg, "2026/11/30")
		wav(d, "4f8c2a10-1111-4c3b-9a3e-0d5b7e9c2f11.wav", 0o644)
		wav(d, "4f8c2a10-2222-4c3b-9a3e-0d5b7e9c2f11.wav", 0o600)
		os.WriteFile(filepath.Join(d, "notes.txt"), nil, 0o644)
		out, err := run(cfg)
		if err != nil {
			t.Errorf("a warning failed the check: %v\n%s", err, out)
		}
		want := "WARN  recordings of the last days: 0 folder(s) and 1 recording(s) give others access (e.g. 2026/11/30/4f8c2a10-1111-4c3b-9a3e-0d5b7e9c2f11.wav mode 0644)"
		if !strings.Contains(out, want) || !strings.Contains(out, "UMask=0027") {
			t.Errorf("want %q (only the last 7 days):\n%s", want, out)
		}
	})
	t.Run("ErrFolderOpenToOthers", func(t *testing.T) {
		cfg := goodHost(t)
		os.Chmod(cfg.RecordingsDir, 0o755)
		out, err := run(cfg)
		if err == nil || !strings.Contains(out, "FAIL  recordings dir "+cfg.RecordingsDir+": mode 0755: others have access (chmod o-rwx)") {
			t.Errorf("err %v\n%s", err, out)
		}
	})
}
