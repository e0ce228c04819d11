package sqlite_test

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// bigDB returns the path of a closed database holding n calls, inserted in one statement.
func bigDB(tb testing.TB, n int) string {
	tb.Helper()
	db := MustOpenDB(tb)
	if err := sqlite.ExecRaw(db, `INSERT INTO calls (uuid, caller_pseudonym, started_at)
		WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ?)
		SELECT printf('%08x-0000-4000-8000-%012x', n, n), printf('%064x', n),
			strftime('%Y-%m-%dT%H:%M:%S.000000000Z', '2025-01-01', '+' || n || ' seconds')
		FROM i`, n); err != nil {
		tb.Fatal(err)
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	return db.Path()
}

// readBytes is what this process has read through read(2) and pread(2) so far (Linux).
func readBytes(tb testing.TB) int64 {
	tb.Helper()
	f, err := os.Open("/proc/self/io")
	if err != nil {
		tb.Skipf("no /proc/self/io: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return n
		}
	}
	tb.Fatal("no rchar in /proc/self/io")
	return 0
}

// TestDB_OpenReadOnlyReadsLittle: a query command opens a large database, checks the key
// binding and lists a page of calls without reading the file, nor an index of every call: the
// integrity check that reads it all (quick_check) is the daemon's, at start and on a schedule,
// not every query's, and the key binding counts calls only as far as it needs to.
func TestDB_OpenReadOnlyReadsLittle(t *testing.T) {
	ctx := context.Background()
	path := bigDB(t, 60000)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	before := readBytes(t)
	db := sqlite.NewDB(path)
	if err := db.OpenReadOnly(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := db.KeyBinding(ctx)
	if err != nil || b.Calls == 0 {
		t.Fatalf("KeyBinding = %+v, %v", b, err)
	}
	calls, err := db.FindCalls(ctx, consent.CallFilter{Limit: 100})
	if err != nil || len(calls) != 100 {
		t.Fatalf("FindCalls: %d calls, %v", len(calls), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	read := readBytes(t) - before
	t.Logf("database %d bytes; open, key binding, list 100 calls, close read %d bytes", fi.Size(), read)
	if read > 1<<20 {
		t.Errorf("a read-only open, the key binding and one page of calls read %d bytes of a %d-byte database, want at most 1 MiB", read, fi.Size())
	}
}

// TestDB_QuickCheck: the integrity check runs on an open store, read-write or read-only, and
// names what it finds in a file damaged while the store is open, even after the store's
// connections have read (and cached) every page.
func TestDB_QuickCheck(t *testing.T) {
	ctx := context.Background()
	path := bigDB(t, 2000)
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ro := sqlite.NewDB(path)
	if err := ro.OpenReadOnly(ctx); err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for name, s := range map[string]*sqlite.DB{"read-write": db, "read-only": ro} {
		if err := s.QuickCheck(ctx); err != nil {
			t.Fatalf("%s: a sound database fails the check: %v", name, err)
		}
		// The pool's connections have read the pages now, and keep them.
		if _, err := s.FindCalls(ctx, consent.CallFilter{}); err != nil {
			t.Fatal(err)
		}
	}

	corruptPages(t, path)
	for name, s := range map[string]*sqlite.DB{"read-write": db, "read-only": ro} {
		err := s.QuickCheck(ctx)
		t.Logf("%s: %v", name, err)
		if err == nil || !strings.Contains(err.Error(), "restore it from a backup") {
			t.Errorf("%s: damaged database: err = %v, want a failed check saying to restore it", name, err)
		}
	}
}

// corruptPages overwrites pages 3 to 6 of the database file with garbage.
func corruptPages(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat("\xff", 4*4096)), 2*4096); err != nil {
		tb.Fatal(err)
	}
}
