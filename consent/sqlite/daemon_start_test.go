package sqlite_test

import (
	"context"
	"testing"
	"time"
)

// The start of the daemon is kept across opens, the last one wins, and a database no daemon
// ran on gives the zero time.
func TestDB_DaemonStart(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	if got, err := db.DaemonStartedAt(ctx); err != nil || !got.IsZero() {
		t.Fatalf("fresh database: %v, %v", got, err)
	}
	for _, at := range []time.Time{now, now.Add(time.Hour)} {
		if err := db.MarkDaemonStart(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	db = MustReopenDB(t, db)
	if got, err := db.DaemonStartedAt(ctx); err != nil || !got.Equal(now.Add(time.Hour)) {
		t.Errorf("DaemonStartedAt = %v, %v; want %v", got, err, now.Add(time.Hour))
	}
}
