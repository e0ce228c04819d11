package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// Commits never checkpoint inline (the writer's auto-checkpoint is off), and the background
// checkpointer keeps the WAL bounded: without it the WAL would grow with every commit.
func TestDB_BackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "callconsent.db"))
	db.Now = func() time.Time { return now }
	sqlite.SetCheckpointEvery(db, 20*time.Millisecond)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if pages, err := sqlite.WriterAutoCheckpoint(db); err != nil || pages != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d (err %v), want 0", pages, err)
	}
	// ~6,000 WAL frames (24 MiB) if nothing checkpointed.
	for range 3000 {
		c := MustCreateCall(t, db, pseudonym(t), now)
		if err := db.DecideCall(ctx, c.UUID, consent.DecisionDeclined, grantProof(now)); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(db.Path() + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 24<<20 { // ~4096 frames before a reset, and some margin
		t.Errorf("WAL grew to %d bytes: the background checkpoint does not keep up", fi.Size())
	}
}

// A checkpoint costs two fsyncs: the checkpointer runs one only after enough commits, or a
// while after the last few, and never on an idle database.
func TestDB_CheckpointOnlyWhenDue(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "callconsent.db"))
	db.Now = func() time.Time { return now }
	const tick = 30 * time.Millisecond
	sqlite.SetCheckpointEvery(db, tick)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	time.Sleep(15 * tick)
	if n := sqlite.Checkpoints(db); n != 0 {
		t.Fatalf("%d checkpoints of an idle database, want 0", n)
	}
	for range 5 {
		MustCreateCall(t, db, pseudonym(t), now)
	}
	time.Sleep(4 * tick)
	if n := sqlite.Checkpoints(db); n != 0 {
		t.Fatalf("%d checkpoints 4 ticks after 5 commits, want 0 before 10 ticks", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for sqlite.Checkpoints(db) == 0 && time.Now().Before(deadline) {
		time.Sleep(tick)
	}
	if n := sqlite.Checkpoints(db); n != 1 {
		t.Fatalf("%d checkpoints after the few commits waited, want 1", n)
	}
	time.Sleep(15 * tick)
	if n := sqlite.Checkpoints(db); n != 1 {
		t.Fatalf("%d checkpoints with nothing new, want still 1", n)
	}
}
