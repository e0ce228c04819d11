package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
)

func TestRunPolicy(t *testing.T) {
	ctx := context.Background()
	t.Run("Table", func(t *testing.T) {
		cfg := testConfig(t, "--notices-dir", repoNotices, "--retention", "720h")
		var out bytes.Buffer
		if err := runPolicy(ctx, cfg, policyOptions{Output: outputTable}, &out); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"training, quality-assurance", "720h (30 days)", "3 tries, 5s digit timeout",
			noticeSum, "2026-11-26.1", cfg.RecordingsDir, cfg.DB, cfg.KeyFile, "6000 XML default", "@every 15m"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("policy lacks %q:\n%s", want, out.String())
			}
		}
	})
	t.Run("JSONMissingNotice", func(t *testing.T) {
		cfg := testConfig(t) // notices-dir below an empty temp folder
		var out bytes.Buffer
		if err := runPolicy(ctx, cfg, policyOptions{Output: outputJSON}, &out); err != nil {
			t.Fatal(err)
		}
		var p policyJSON
		if err := json.Unmarshal(out.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.RetentionDays != 90 || len(p.Notices) != 2 || p.Notices[0].Language != "en" || p.Notices[0].SHA256 != "missing" {
			t.Errorf("policy = %+v", p)
		}
	})
	t.Run("NoSecrets", func(t *testing.T) {
		cfg := testConfig(t, "--notices-dir", repoNotices)
		key, err := consent.CreateKey(cfg.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ESLPasswordFile = filepath.Join(t.TempDir(), "pw")
		os.WriteFile(cfg.ESLPasswordFile, []byte("S3cretPw\n"), 0o600)
		for _, o := range []outputFormat{outputTable, outputJSON} {
			var out bytes.Buffer
			runPolicy(ctx, cfg, policyOptions{Output: o}, &out)
			if s := out.String(); strings.Contains(s, hex.EncodeToString(key)) || strings.Contains(s, "S3cretPw") {
				t.Errorf("%s output shows a secret", o)
			}
		}
	})
}

// currentUser is the name of the account the tests run as.
func currentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// goodHost builds a configuration whose every file check passes.
func goodHost(t *testing.T) *Config {
	cfg := testConfig(t, "--notices-dir", repoNotices)
	cfg.FreeSWITCHUsers = []string{currentUser(t)} // this host may have no freeswitch account
	cfg.ESLPasswordFile = filepath.Join(t.TempDir(), "esl-password")
	if err := os.WriteFile(cfg.ESLPasswordFile, []byte("ClueCon\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(cfg.RecordingsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRunConfigCheck(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		cfg := goodHost(t)
		var out bytes.Buffer
		if err := runConfigCheck(ctx, cfg, &out); err != nil {
			t.Fatalf("err = %v\n%s", err, out.String())
		}
		if strings.Contains(out.String(), "FAIL") || !strings.Contains(out.String(), "PCM 8000 Hz mono 16-bit") ||
			strings.Contains(out.String(), "ClueCon") {
			t.Errorf("output:\n%s", out.String())
		}
		if _, err := os.Stat(cfg.DB); err == nil {
			t.Errorf("config check created the database")
		}
	})

	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, cfg *Config)
		want  string
	}{
		{"MissingNotice", func(t *testing.T, cfg *Config) {
			n := cfg.Notices["nb"]
			n.File = filepath.Join(t.TempDir(), "gone.wav")
			cfg.Notices["nb"] = n
		}, "gone.wav does not exist"},
		{"NoticeNotWAV", func(t *testing.T, cfg *Config) {
			n := cfg.Notices["en"]
			n.InvalidFile = filepath.Join(repoNotices, "notice-en.txt")
			cfg.Notices["en"] = n
		}, "not a WAV file"},
		{"PasswordMissing", func(t *testing.T, cfg *Config) { os.Remove(cfg.ESLPasswordFile) }, "esl-password does not exist"},
		{"PasswordWorldReadable", func(t *testing.T, cfg *Config) { os.Chmod(cfg.ESLPasswordFile, 0o644) }, "others can read"},
		{"NoRecordingsDir", func(t *testing.T, cfg *Config) { os.Remove(cfg.RecordingsDir) }, "recordings does not exist"},
		{"KeyFileMode", func(t *testing.T, cfg *Config) { os.WriteFile(cfg.KeyFile, make([]byte, 32), 0o644) }, "must be 0600"},
		{"AuditKeyFileMode", func(t *testing.T, cfg *Config) { os.WriteFile(cfg.AuditKeyFile, make([]byte, 32), 0o640) }, "audit key file"},
		{"KeyMissingBesideDatabase", func(t *testing.T, cfg *Config) { os.WriteFile(cfg.DB, nil, 0o600) }, "restore the key it was made with from backup"},
	} {
		t.Run("Err"+tc.name, func(t *testing.T) {
			cfg := goodHost(t)
			tc.spoil(t, cfg)
			var out bytes.Buffer
			err := runConfigCheck(ctx, cfg, &out)
			if consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("err = %v, want EINVALID", err)
			}
			if n := strings.Count(out.String(), "FAIL"); n != 1 || !strings.Contains(out.String(), tc.want) {
				t.Errorf("want one FAIL with %q:\n%s", tc.want, out.String())
			}
		})
	}
}
