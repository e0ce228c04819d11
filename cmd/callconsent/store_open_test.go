package main

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent/sqlite"
)

// TestOpenCommandStore_ReadsLittle: the commands that write (sweep, withdraw, users, search,
// ...) open a large database without reading all of it: the whole-file integrity check is the
// daemon's, at start and daily. Before, every one of them ran it (0.38 s of a 0.39 s sweep of
// 200,000 recordings; seconds per login at a million calls). The daemon's open still reads it.
func TestOpenCommandStore_ReadsLittle(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = st.DB.Update(ctx, func(tx *sqlite.Tx) error {
		_, err := tx.Exec(`INSERT INTO calls (uuid, caller_pseudonym, started_at)
			WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < 60000)
			SELECT printf('%08x-0000-4000-8000-%012x', n, n), printf('%064x', n),
				strftime('%Y-%m-%dT%H:%M:%S.000000000Z', '2025-01-01', '+' || n || ' seconds')
			FROM i`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DB.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	fi, err := os.Stat(cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	opened := func(open func(context.Context, *Config) (*storage, error)) int64 {
		before := readChars(t)
		st, err := open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		return readChars(t) - before
	}
	command, daemon := opened(openCommandStore), opened(openStore)
	t.Logf("database %d bytes: a command's open read %d bytes, the daemon's %d", fi.Size(), command, daemon)
	if command > 1<<20 {
		t.Errorf("a command's open read %d bytes of a %d-byte database, want at most 1 MiB", command, fi.Size())
	}
	if daemon < fi.Size()/2 {
		t.Errorf("the daemon's open read %d bytes of a %d-byte database: it no longer checks the whole file", daemon, fi.Size())
	}
}

// readChars is what this process has read through read(2) and pread(2) so far (Linux rchar).
func readChars(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no rchar in /proc/self/io")
	return 0
}
