package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/mattn/go-sqlite3"
)

// TestDB_Locked holds the write lock from another connection, as a second process (a CLI, a
// backup) would, past the busy timeout. The write must fail with a clear "database is locked"
// error that still carries the driver's error, store nothing half-way, and succeed once the
// lock is released; the other connection's write is kept too.
func TestDB_Locked(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "callconsent.db"))
	db.Now = func() time.Time { return now }
	sqlite.SetBusyTimeout(db, 200*time.Millisecond)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := MustCreateCall(t, db, pseudonym(t), now)

	other, err := sql.Open("sqlite3", "file:"+db.Path()+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO tombstones (path, deleted_at, reason) VALUES ('/rec/stray.wav', '2025-03-14T00:00:00.000000000Z', 'orphan')`); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	err = db.DecideCall(ctx, c.UUID, consent.DecisionGranted, grantProof(now))
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("gave up after %v, before the busy timeout", waited)
	}
	t.Logf("locked: %v", err)
	var se sqlite3.Error
	switch {
	case err == nil:
		t.Fatal("write succeeded while another connection held the lock")
	case !errors.Is(err, sqlite.ErrLocked):
		t.Fatalf("err = %v, want ErrLocked", err)
	case !errors.Is(err, sqlite3.ErrBusy) || !errors.As(err, &se):
		t.Fatalf("err = %v: driver error not in the chain", err)
	case !strings.Contains(err.Error(), "database is locked"):
		t.Fatalf("unclear error: %v", err)
	case consent.ErrorCode(err) != consent.EINTERNAL:
		t.Fatalf("code = %s, want internal", consent.ErrorCode(err))
	}
	if got := mustFindCall(t, db, c.UUID); got.Decision != consent.DecisionPending {
		t.Fatalf("failed write left decision %s", got.Decision)
	}

	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	if err := db.DecideCall(ctx, c.UUID, consent.DecisionGranted, grantProof(now)); err != nil {
		t.Fatalf("retry after the lock was released: %v", err)
	}
	if got := mustFindCall(t, db, c.UUID); got.Decision != consent.DecisionGranted {
		t.Fatalf("decision %s after retry", got.Decision)
	}
	if ts := mustTombstones(t, db); len(ts) != 1 {
		t.Fatalf("the other connection's write was lost: %d tombstones", len(ts))
	}
}
