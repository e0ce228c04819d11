package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MinSQLiteVersion is the oldest SQLite library the store runs on. Versions before 3.51.3 can
// corrupt a WAL database when the WAL is reset while another connection writes, and a corrupt
// database loses proofs of consent.
const MinSQLiteVersion = "3.51.3"

// checkVersion refuses a SQLite library older than MinSQLiteVersion, e.g. when the binary was
// built against a system library (libsqlite3 build tag) instead of the bundled one.
func checkVersion(ctx context.Context, db *sql.DB) error {
	var v string
	if err := db.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&v); err != nil {
		return fmt.Errorf("read sqlite version: %w", formatError(err))
	}
	ok, err := versionAtLeast(v, MinSQLiteVersion)
	if err != nil {
		return fmt.Errorf("sqlite version: %w", err)
	} else if !ok {
		return fmt.Errorf("sqlite %s is too old: need %s or newer (older versions can corrupt WAL databases)", v, MinSQLiteVersion)
	}
	return nil
}

// versionAtLeast compares dotted version numbers numerically, part by part: as strings,
// "3.9.0" would sort after "3.51.3". Missing parts count as zero.
func versionAtLeast(have, want string) (bool, error) {
	h, err := parseVersion(have)
	if err != nil {
		return false, err
	}
	w, err := parseVersion(want)
	if err != nil {
		return false, err
	}
	for i := 0; i < max(len(h), len(w)); i++ {
		var a, b int
		if i < len(h) {
			a = h[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return a > b, nil
		}
	}
	return true, nil
}

func parseVersion(s string) ([]int, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("malformed version %q", s)
		}
		out[i] = n
	}
	return out, nil
}

// connSettings are the settings a connection reports, read back with PRAGMA.
type connSettings struct {
	JournalMode  string
	Synchronous  int
	ForeignKeys  int
	BusyTimeout  int
	SecureDelete int
	QueryOnly    int
}

// checkConn reads the settings of the pool's open connections back and refuses to start unless
// each one runs durable and safe: a DSN typo or a driver that ignores a parameter would
// otherwise silently give WAL with synchronous=NORMAL, which may lose the last decisions.
func checkConn(ctx context.Context, db *sql.DB, name string, busy time.Duration) error {
	n := db.Stats().MaxOpenConnections
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Hold n connections at once so each one is a different connection.
	for i := 0; i < n; i++ {
		c, err := db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("%s connection: %w", name, formatError(err))
		}
		conns = append(conns, c)
		s, err := readSettings(ctx, c)
		if err != nil {
			return fmt.Errorf("%s settings: %w", name, formatError(err))
		}
		switch {
		case s.JournalMode != "wal":
			return fmt.Errorf("%s: journal_mode is %q, want wal", name, s.JournalMode)
		case s.Synchronous != 2:
			return fmt.Errorf("%s: synchronous is %d, want 2 (FULL)", name, s.Synchronous)
		case s.ForeignKeys != 1:
			return fmt.Errorf("%s: foreign_keys is off", name)
		case time.Duration(s.BusyTimeout)*time.Millisecond < busy:
			return fmt.Errorf("%s: busy_timeout is %d ms, want at least %d", name, s.BusyTimeout, busy.Milliseconds())
		case s.SecureDelete != 1:
			return fmt.Errorf("%s: secure_delete is %d, want 1", name, s.SecureDelete)
		case name == "reader" && s.QueryOnly != 1:
			return fmt.Errorf("%s: query_only is off", name)
		}
	}
	return nil
}

func readSettings(ctx context.Context, c *sql.Conn) (s connSettings, err error) {
	for _, p := range []struct {
		pragma string
		dst    any
	}{
		{"journal_mode", &s.JournalMode},
		{"synchronous", &s.Synchronous},
		{"foreign_keys", &s.ForeignKeys},
		{"busy_timeout", &s.BusyTimeout},
		{"secure_delete", &s.SecureDelete},
		{"query_only", &s.QueryOnly},
	} {
		if err := c.QueryRowContext(ctx, `PRAGMA `+p.pragma).Scan(p.dst); err != nil {
			return s, fmt.Errorf("pragma %s: %w", p.pragma, err)
		}
	}
	s.JournalMode = strings.ToLower(s.JournalMode)
	return s, nil
}

// QuickCheck runs SQLite's quick_check and returns an error naming the first problems it
// found. It reads every page of the file: seconds on a large database. Open runs it before
// anything is written; a daemon runs it again on a schedule, since a file can be damaged while
// it runs (a disk, a backup tool, a careless copy); queries skip it (OpenReadOnly).
//
// It runs on a connection of its own, opened read-only for the check and closed after it: the
// pool's connections keep pages in their caches for as long as no write changes the WAL, and a
// check must read the file as it is now.
func (db *DB) QuickCheck(ctx context.Context) error {
	if _, err := db.read(); err != nil {
		return err
	}
	abs, err := filepath.Abs(db.path)
	if err != nil {
		return fmt.Errorf("quick_check: %w", err)
	}
	conn, err := sql.Open("sqlite3", db.dsn(abs, true))
	if err != nil {
		return fmt.Errorf("quick_check: %w", err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	return quickCheck(ctx, conn)
}

// quickCheck refuses a database whose structure is damaged: writing consent decisions into a
// corrupt file risks losing them, so the operator must restore it first.
//
// The message names at most maxProblems of the problems on one line: a damaged file can have
// thousands, and the message goes into logs and status.
func quickCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`PRAGMA quick_check(%d)`, maxProblems+1))
	if err != nil {
		return fmt.Errorf("quick_check: %w", formatError(err))
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return fmt.Errorf("quick_check: %w", err)
		}
		// A row may hold several problems, a line each, after a line naming the database.
		for line := range strings.Lines(text) {
			if line = strings.TrimSpace(line); line != "ok" && line != "" && !strings.HasPrefix(line, "*** ") {
				problems = append(problems, line)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("quick_check: %w", formatError(err))
	}
	if len(problems) > maxProblems {
		problems = append(problems[:maxProblems], "and more")
	}
	if len(problems) > 0 {
		return fmt.Errorf("database failed quick_check, restore it from a backup: %s", strings.Join(problems, "; "))
	}
	return nil
}

// maxProblems is how many of quick_check's findings an error names.
const maxProblems = 5
