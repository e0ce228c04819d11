package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
)

// seededDir returns a --data-dir holding the three calls of seedCalls, made with the key that
// openStore created there.
func seededDir(t *testing.T) (dir string, cfg *Config) {
	t.Helper()
	dir = t.TempDir()
	cfg, err := LoadConfig("", false, testFlags(t, "--data-dir", dir))
	if err != nil {
		t.Fatal(err)
	}
	seedCalls(t, cfg)
	if err := os.MkdirAll(cfg.RecordingsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

// writeOtherKey replaces the key file with a new random key.
func writeOtherKey(t *testing.T, path string) {
	t.Helper()
	key := make([]byte, consent.KeySize)
	rand.Read(key)
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenStore_KeyBinding: a database made with one key refuses to run without it. Before,
// any command made a new key and withdraw --caller then found none of the caller's calls.
func TestOpenStore_KeyBinding(t *testing.T) {
	ctx := context.Background()
	// Every command that opens the store, and what it prints when the key is right.
	commands := [][]string{
		{"calls", "list", "--output", "json"},
		{"calls", "show", uuidGranted},
		{"withdraw", "--caller", "+47 22 33 44 55", "--reason", "T-1", "--output", "json"},
		{"sweep", "--dry-run"},
	}

	t.Run("KeyKept", func(t *testing.T) {
		dir, cfg := seededDir(t)
		st, err := openStore(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		if st.Key != consent.KeyVerified {
			t.Errorf("key %s, want verified", st.Key)
		}
		code, out, stderr := runArgs(t, dir, "withdraw", "--caller", "+47 22 33 44 55", "--reason", "T-1", "--output", "json")
		if code != exitOK || !strings.Contains(out, uuidGranted) {
			t.Fatalf("withdraw --caller: exit %d, stdout %s, stderr %s; want the granted call", code, out, stderr)
		}
	})

	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, keyFile string)
		want  []string
	}{
		{"ErrKeyMissing", func(t *testing.T, keyFile string) { os.Remove(keyFile) },
			[]string{"is missing", "holds 3 calls", "restore that key file from backup", "must be the key this database was made with"}},
		{"ErrKeyReplaced", writeOtherKey,
			[]string{"is not the key", "was made with", "restore the right key file from backup"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, cfg := seededDir(t)
			tc.spoil(t, cfg.KeyFile)
			before, _ := os.ReadFile(cfg.KeyFile)
			for _, args := range commands {
				code, out, stderr := runArgs(t, dir, args...)
				if code != exitUsage || out != "" {
					t.Errorf("%v: exit %d, stdout %q; want exit 2 and nothing done", args, code, out)
				}
				for _, w := range append(tc.want, cfg.KeyFile, cfg.DB) {
					if !strings.Contains(stderr, w) {
						t.Errorf("%v: stderr %q lacks %q", args, stderr, w)
					}
				}
			}
			if after, _ := os.ReadFile(cfg.KeyFile); string(after) != string(before) {
				t.Errorf("the key file was changed")
			}
			// The daemon refuses too, before it listens.
			d := newDaemon(cfg, discardLogger())
			if err := d.Open(ctx); consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), cfg.KeyFile) {
				d.Close()
				t.Fatalf("run: %v, want refused naming the key file", err)
			}
			if d.outbound != nil && d.outbound.Addr() != nil {
				t.Errorf("run listened with the wrong key")
			}
		})
	}

	t.Run("NewDatabaseCreatesKey", func(t *testing.T) {
		cfg := testConfig(t)
		st, err := openStore(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if st.Key != consent.KeyCreated {
			t.Errorf("key %s, want created", st.Key)
		}
		if _, err := consent.LoadKey(cfg.KeyFile); err != nil {
			t.Errorf("no key file: %v", err)
		}
	})

	t.Run("DatabaseBeforeFingerprints", func(t *testing.T) {
		// A database and key of the previous release: the key present is adopted, and from
		// then on it is the only one accepted.
		dir, cfg := seededDir(t)
		unbind(t, cfg.DB)
		st, err := openStore(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		if st.Key != consent.KeyAdopted {
			t.Errorf("key %s, want adopted", st.Key)
		}
		writeOtherKey(t, cfg.KeyFile)
		if code, _, stderr := runArgs(t, dir, "calls", "list"); code != exitUsage || !strings.Contains(stderr, "is not the key") {
			t.Errorf("other key after adoption: exit %d, %s", code, stderr)
		}
	})

	t.Run("ErrDatabaseBeforeFingerprintsKeyMissing", func(t *testing.T) {
		dir, cfg := seededDir(t)
		unbind(t, cfg.DB)
		os.Remove(cfg.KeyFile)
		// A query opens the database read-only and does not migrate it: it says so.
		if code, _, stderr := runArgs(t, dir, "calls", "list"); code != exitConflict || !strings.Contains(stderr, "open it once for writing") {
			t.Errorf("calls list: exit %d, %s; want refused until migrated", code, stderr)
		}
		// A command that writes migrates it, and then refuses the missing key.
		if code, _, stderr := runArgs(t, dir, "sweep"); code != exitUsage || !strings.Contains(stderr, "holds 3 calls") {
			t.Errorf("sweep: exit %d, %s; want refused", code, stderr)
		}
		if _, err := os.Stat(cfg.KeyFile); err == nil {
			t.Errorf("a key was created for a database in use")
		}
	})
}

// unbind turns a database back into one of the release before key fingerprints: no meta
// table, migration 004 not applied.
func unbind(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP TABLE meta; DELETE FROM migrations WHERE name = '004_key_fingerprint.sql'`); err != nil {
		t.Fatal(err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
