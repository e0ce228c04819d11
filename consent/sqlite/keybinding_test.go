package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

const (
	fingerprintA = "aaaa0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddee"
	fingerprintB = "bbbb0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddee"
)

func mustKeyBinding(t *testing.T, db *sqlite.DB) consent.KeyBinding {
	t.Helper()
	b, err := db.KeyBinding(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDB_KeyBinding(t *testing.T) {
	ctx := context.Background()
	t.Run("Empty", func(t *testing.T) {
		if b := mustKeyBinding(t, MustOpenDB(t)); b != (consent.KeyBinding{}) || !b.Empty() {
			t.Fatalf("new database: %+v, want empty", b)
		}
	})
	t.Run("Calls", func(t *testing.T) {
		db := MustOpenDB(t)
		MustCreateCall(t, db, pseudonym(t), now)
		MustGrantedCall(t, db, now)
		if b := mustKeyBinding(t, db); b.Calls != 2 || b.Deletions || b.Empty() {
			t.Fatalf("binding %+v, want 2 calls and not empty", b)
		}
	})
	t.Run("TombstonesOnly", func(t *testing.T) {
		// Every call purged, a tombstone left: the database was in use.
		db := MustOpenDB(t)
		if err := db.FinishDeletion(ctx, consent.Tombstone{Path: "/rec/2025/03/14/x.wav", DeletedAt: now, Reason: consent.ReasonOrphan}); err != nil {
			t.Fatal(err)
		}
		if b := mustKeyBinding(t, db); b.Calls != 0 || !b.Deletions || b.Empty() {
			t.Fatalf("binding %+v, want deletions and not empty", b)
		}
	})
	t.Run("BindOnce", func(t *testing.T) {
		db := MustOpenDB(t)
		if got, err := db.BindKey(ctx, fingerprintA); err != nil || got != fingerprintA {
			t.Fatalf("first bind = %q, %v", got, err)
		}
		if got, err := db.BindKey(ctx, fingerprintB); err != nil || got != fingerprintA {
			t.Fatalf("second bind = %q, %v; want the first fingerprint kept", got, err)
		}
		db = MustReopenDB(t, db)
		if b := mustKeyBinding(t, db); b.Fingerprint != fingerprintA || b.Empty() {
			t.Fatalf("after re-open: %+v", b)
		}
	})
	t.Run("ErrRewrite", func(t *testing.T) {
		db := MustOpenDB(t)
		if _, err := db.BindKey(ctx, fingerprintA); err != nil {
			t.Fatal(err)
		}
		err := sqlite.ExecRaw(db, `UPDATE meta SET value = ? WHERE key = 'pseudonym_key_fingerprint'`, fingerprintB)
		wantCode(t, err, consent.ECONFLICT)
		if !strings.Contains(err.Error(), "never changed") {
			t.Fatalf("unclear error: %v", err)
		}
	})
	t.Run("ErrEmptyFingerprint", func(t *testing.T) {
		_, err := MustOpenDB(t).BindKey(ctx, "")
		wantCode(t, err, consent.EINVALID)
	})
	t.Run("DatabaseBeforeMigration004", func(t *testing.T) {
		// A database of the previous release: calls, but no meta table and no 004 recorded.
		db := MustOpenDB(t)
		c := MustGrantedCall(t, db, now)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		rawExec(t, db.Path(), `DROP TABLE meta; DELETE FROM migrations WHERE name = '004_key_fingerprint.sql'`)

		db = MustReopenDB(t, db)
		if b := mustKeyBinding(t, db); b.Fingerprint != "" || b.Calls != 1 || b.Empty() {
			t.Fatalf("old database after upgrade: %+v, want no fingerprint and 1 call", b)
		}
		if _, err := db.FindCall(ctx, c.UUID); err != nil {
			t.Fatal(err)
		}
	})
}
