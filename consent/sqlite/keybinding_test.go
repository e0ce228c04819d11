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
	t.Run("TombstonesOnly", func(t *testing.T) {
		// Every call purged, a tombstone left: the database was in use.
		db := MustOpenDB(t)
		orphan := []consent.Tombstone{{Path: "/rec/2025/03/14/x.wav", Reason: consent.ReasonOrphan}}
		if _, err := db.MarkDeleting(ctx, orphan); err != nil {
			t.Fatal(err)
		}
		if b := mustKeyBinding(t, db); !b.Deletions || b.Empty() {
			t.Fatalf("binding %+v with a pending deletion, want deletions and not empty", b)
		}
		if n, err := db.FinishDeletions(ctx, orphan); err != nil || n != 1 {
			t.Fatalf("FinishDeletions = %d, %v", n, err)
		}
		if b := mustKeyBinding(t, db); b.Calls != 0 || !b.Deletions || b.Empty() {
			t.Fatalf("binding %+v, want deletions and not empty", b)
		}
	})
	t.Run("CallsCountedToTheBound", func(t *testing.T) {
		db := sqlite.NewDB(bigDB(t, consent.KeyBindingCalls+1))
		if err := db.OpenReadOnly(ctx); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if b := mustKeyBinding(t, db); b.Calls != consent.KeyBindingCalls {
			t.Fatalf("binding %+v, want the calls counted up to %d", b, consent.KeyBindingCalls)
		}
	})
	t.Run("BindDurable", func(t *testing.T) {
		db := MustOpenDB(t)
		if _, err := db.BindKey(ctx, fingerprintA); err != nil {
			t.Fatal(err)
		}
		db = MustReopenDB(t, db)
		if got, err := db.BindKey(ctx, fingerprintB); err != nil || got != fingerprintA {
			t.Fatalf("bind after re-open = %q, %v; want the first fingerprint kept", got, err)
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
