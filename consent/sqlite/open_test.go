package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

func TestDB_Open(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		db := MustOpenDB(t)
		if got, want := countMigrations(t, db.Path()), embeddedMigrations(t); got != want {
			t.Fatalf("migrations = %d, want %d", got, want)
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		db = MustReopenDB(t, db)
		db = MustReopenDB(t, db) // a second re-open applies nothing again
		if got, want := countMigrations(t, db.Path()), embeddedMigrations(t); got != want {
			t.Fatalf("migrations = %d, want %d", got, want)
		}
		if _, err := db.FindCall(context.Background(), c.UUID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrUnknownMigration", func(t *testing.T) {
		db := MustOpenDB(t)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		rawExec(t, db.Path(), `INSERT INTO migrations (name, applied_at) VALUES ('999_future.sql', '2030-01-01T00:00:00.000000000Z')`)

		err := sqlite.NewDB(db.Path()).Open(context.Background())
		wantCode(t, err, consent.ECONFLICT)
		t.Logf("unknown: %v", err)
		if msg := err.Error(); !strings.Contains(msg, "999_future.sql") || !strings.Contains(msg, "newer") {
			t.Fatalf("unclear error: %v", err)
		}
	})

	t.Run("ErrCorrupt", func(t *testing.T) {
		db := MustOpenDB(t)
		MustGrantedCall(t, db, now)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		// Overwrite the second page (a table's b-tree) with garbage.
		f, err := os.OpenFile(db.Path(), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte(strings.Repeat("\xff", 4096)), 4096); err != nil {
			t.Fatal(err)
		}
		f.Close()

		err = sqlite.NewDB(db.Path()).Open(context.Background())
		t.Logf("corrupt: %v", err)
		if err == nil || !(strings.Contains(err.Error(), "quick_check") || strings.Contains(err.Error(), "corrupt")) {
			t.Fatalf("open of a corrupt database: err = %v, want a quick_check/corrupt refusal", err)
		}
	})

	t.Run("ErrMemory", func(t *testing.T) {
		wantCode(t, sqlite.NewDB(":memory:").Open(context.Background()), consent.EINVALID)
	})

	t.Run("FileModes", func(t *testing.T) {
		// Not parallel: the umask is process-wide. With umask 0, anything SQLite created with
		// its default 0644 would show up here.
		old := syscall.Umask(0)
		defer syscall.Umask(old)

		dir := filepath.Join(t.TempDir(), "new", "folder")
		db := sqlite.NewDB(filepath.Join(dir, "callconsent.db"))
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		MustGrantedCall(t, db, now)

		wantMode(t, dir, 0o700)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			wantMode(t, db.Path()+suffix, 0o600)
		}

		// After a clean close SQLite removes -wal and -shm; a re-open without any write of
		// ours must still leave them private.
		db = MustReopenDB(t, db)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			wantMode(t, db.Path()+suffix, 0o600)
		}
	})

	t.Run("ExistingFolderKept", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		db := sqlite.NewDB(filepath.Join(dir, "callconsent.db"))
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		wantMode(t, dir, 0o750)
		wantMode(t, db.Path(), 0o600)
	})

	t.Run("ExistingFileTightened", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "callconsent.db")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		db := sqlite.NewDB(path)
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		wantMode(t, path, 0o600)
	})
}

// TestDB_Durability checks that a decision and its whole proof survive closing the database:
// what DecideCall returned nil for is what a restarted daemon reads.
func TestDB_Durability(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	c := MustCreateCall(t, db, pseudonym(t), now)
	proof := grantProof(now.Add(17 * time.Second))
	if err := db.DecideCall(ctx, c.UUID, consent.DecisionGranted, proof); err != nil {
		t.Fatal(err)
	}
	if err := db.EndCall(ctx, c.UUID, now.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}

	db = MustReopenDB(t, db)
	got, err := db.FindCall(ctx, c.UUID)
	if err != nil {
		t.Fatal(err)
	}
	want := &consent.Call{UUID: c.UUID, CallerPseudonym: c.CallerPseudonym,
		Language: "nb", StartedAt: now, Decision: consent.DecisionGranted, Proof: proof, EndedAt: now.Add(5 * time.Minute)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after re-open:\n got %+v proof %+v\nwant %+v proof %+v", got, got.Proof, want, want.Proof)
	}
}

func countMigrations(tb testing.TB, path string) int {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM migrations`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// embeddedMigrations counts the migration files the binary embeds.
func embeddedMigrations(tb testing.TB) int {
	tb.Helper()
	names, err := filepath.Glob("migration/*.sql")
	if err != nil || len(names) == 0 {
		tb.Fatalf("no migrations found: %v", err)
	}
	return len(names)
}

// rawExec runs SQL on the database file through a connection of its own.
func rawExec(tb testing.TB, path, query string) {
	tb.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		tb.Fatal(err)
	}
}

func wantMode(tb testing.TB, path string, want os.FileMode) {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		tb.Fatalf("%s: mode %04o, want %04o", filepath.Base(path), got, want)
	}
}
