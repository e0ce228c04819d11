package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// TestDB_OpenReadOnly: a read-only open reads what is stored, refuses every write, and leaves
// the database as it was: not a byte of the file changed, no migration, nothing in the WAL.
// (A WAL reader needs -wal and -shm: SQLite creates them empty and private if missing.)
func TestDB_OpenReadOnly(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		before, err := os.ReadFile(db.Path())
		if err != nil {
			t.Fatal(err)
		}

		ro := sqlite.NewDB(db.Path())
		if err := ro.OpenReadOnly(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := ro.FindCall(ctx, c.UUID); err != nil || got.Decision != consent.DecisionGranted {
			t.Fatalf("read: %+v %v", got, err)
		}
		if v, err := ro.SweepState(ctx, "last-sweep"); err != nil || v != "" {
			t.Fatalf("sweep state: %q %v", v, err)
		}
		if err := ro.SetSweepState(ctx, "last-sweep", "x"); !errors.Is(err, sqlite.ErrReadOnly) {
			t.Fatalf("write on a read-only db: %v", err)
		}
		if _, err := ro.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID, Reason: "x"}); !errors.Is(err, sqlite.ErrReadOnly) {
			t.Fatalf("withdraw on a read-only db: %v", err)
		}
		if err := ro.Checkpoint(ctx); !errors.Is(err, sqlite.ErrReadOnly) {
			t.Fatalf("checkpoint on a read-only db: %v", err)
		}
		if err := ro.Close(); err != nil {
			t.Fatal(err)
		}
		if after, err := os.ReadFile(db.Path()); err != nil || !bytes.Equal(before, after) {
			t.Fatalf("read-only open changed the database file (err %v)", err)
		}
		if fi, err := os.Stat(db.Path() + "-wal"); err == nil && fi.Size() != 0 {
			t.Fatalf("read-only open wrote %d bytes to the WAL", fi.Size())
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(db.Path() + suffix); err == nil {
				wantMode(t, db.Path()+suffix, 0o600)
			}
		}
	})

	t.Run("BesideAWriter", func(t *testing.T) {
		db := MustOpenDB(t) // open, as the daemon's: -wal and -shm exist
		c := MustGrantedCall(t, db, now)
		ro := sqlite.NewDB(db.Path())
		if err := ro.OpenReadOnly(ctx); err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if _, err := ro.FindCall(ctx, c.UUID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrMissing", func(t *testing.T) {
		dir := t.TempDir()
		err := sqlite.NewDB(filepath.Join(dir, "callconsent.db")).OpenReadOnly(ctx)
		wantCode(t, err, consent.ENOTFOUND)
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("a read-only open of a missing database created %v", entries)
		}
	})

	// A file callconsent did not make is refused by what it is, not by what a read-only
	// connection fails to do with it.
	for name, tt := range map[string]struct {
		make func(path string)
		want string
	}{
		"Empty":    {func(path string) { os.WriteFile(path, nil, 0o600) }, "is an empty file, not a database callconsent made"},
		"NotWAL":   {func(path string) { rawExec(t, path, `CREATE TABLE x (a)`) }, "is a SQLite database not in WAL mode"},
		"NotDB":    {func(path string) { os.WriteFile(path, []byte(strings.Repeat("not a database\n", 20)), 0o600) }, "is not a SQLite database"},
		"TooShort": {func(path string) { os.WriteFile(path, []byte("SQLite format 3\x00"), 0o600) }, "is not a SQLite database"},
	} {
		t.Run("Err"+name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "callconsent.db")
			tt.make(path)
			err := sqlite.NewDB(path).OpenReadOnly(ctx)
			wantCode(t, err, consent.ECONFLICT)
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "check db") {
				t.Fatalf("err = %v, want %q and what to check", err, tt.want)
			}
		})
	}

	t.Run("ErrNoSchema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "callconsent.db")
		rawExec(t, path, `PRAGMA journal_mode = WAL; CREATE TABLE x (a)`)
		wantCode(t, sqlite.NewDB(path).OpenReadOnly(ctx), consent.ECONFLICT)
	})

	// A damaged file is reported as damaged, with what to do (the check of the whole file is
	// the daemon's; this one reads only the schema).
	t.Run("ErrCorrupt", func(t *testing.T) {
		db := MustOpenDB(t)
		db.Close()
		corruptPages(t, db.Path())
		err := sqlite.NewDB(db.Path()).OpenReadOnly(ctx)
		t.Logf("corrupt: %v", err)
		if err == nil || !strings.Contains(err.Error(), "database is corrupt, restore it from a backup") {
			t.Fatalf("read-only open of a damaged database: %v, want it called corrupt", err)
		}
	})

	t.Run("ErrUnknownMigration", func(t *testing.T) {
		db := MustOpenDB(t)
		db.Close()
		rawExec(t, db.Path(), `INSERT INTO migrations (name, applied_at) VALUES ('999_future.sql', '2030-01-01T00:00:00.000000000Z')`)
		wantCode(t, sqlite.NewDB(db.Path()).OpenReadOnly(ctx), consent.ECONFLICT)
	})

	t.Run("ErrMissingMigration", func(t *testing.T) {
		db := MustOpenDB(t)
		db.Close()
		rawExec(t, db.Path(), `DELETE FROM migrations WHERE name = (SELECT max(name) FROM migrations)`)
		wantCode(t, sqlite.NewDB(db.Path()).OpenReadOnly(ctx), consent.ECONFLICT)
	})
}
