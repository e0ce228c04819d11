package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const repoNotices = "../../notices"

// TestDefaultNotices_MatchShipped keeps the built-in notice defaults in step with
// notices/notices.yaml and the hashes computed at load with notices/SHA256SUMS: a version id that
// drifts from its audio would make every stored proof of consent wrong.
func TestDefaultNotices_MatchShipped(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoNotices, "notices.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var shipped struct {
		Notices map[string]struct {
			File        string `yaml:"file"`
			Version     string `yaml:"version"`
			InvalidFile string `yaml:"invalid-file"`
		} `yaml:"notices"`
	}
	if err := yaml.Unmarshal(b, &shipped); err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig().Notices
	if len(def) != len(shipped.Notices) {
		t.Fatalf("defaults have %d notices, notices.yaml %d", len(def), len(shipped.Notices))
	}
	for lang, s := range shipped.Notices {
		d := def[lang]
		if d.File != s.File || d.Version != s.Version || d.InvalidFile != s.InvalidFile {
			t.Errorf("%s: default %+v, notices.yaml %+v", lang, d, s)
		}
	}

	sums := map[string]string{}
	b, err = os.ReadFile(filepath.Join(repoNotices, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			sums[f[1]] = f[0]
		}
	}
	cfg, err := LoadConfig("", false, testFlags(t, "--notices-dir", repoNotices))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckNotices(); err != nil {
		t.Fatal(err)
	}
	for lang, n := range cfg.Notices {
		if !filepath.IsAbs(n.File) {
			t.Errorf("%s: notice path %s is not absolute", lang, n.File)
		}
		if want := sums[filepath.Base(n.File)]; n.SHA256 != want || want == "" {
			t.Errorf("%s: sha256 %s, SHA256SUMS says %q", lang, n.SHA256, want)
		}
	}
}

func TestESLPassword(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.ESLPasswordFile = filepath.Join(dir, "pw")

	if _, err := cfg.ESLPassword(); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: err = %v", err)
	}
	os.WriteFile(cfg.ESLPasswordFile, []byte("  ClueCon\n"), 0o600)
	if pw, err := cfg.ESLPassword(); err != nil || pw != "ClueCon" {
		t.Errorf("pw = %q, err = %v", pw, err)
	}
	os.WriteFile(cfg.ESLPasswordFile, []byte("a\nb\n"), 0o600)
	if _, err := cfg.ESLPassword(); err == nil || strings.Contains(err.Error(), "a\nb") {
		t.Errorf("two lines: err = %v (and it must not show the content)", err)
	}
}
