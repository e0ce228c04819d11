package sqlite_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/consent/sqlite/sqlitetest"
	"github.com/callconsent/callconsent/consent/storetest"
	"github.com/callconsent/callconsent/recordings"
)

// now is the fixed clock of most tests; times are stored with nanoseconds, so a fraction
// checks that nothing is truncated.
var now = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// MustOpenDB opens a new database in a temporary folder with the clock fixed at now.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "db", "callconsent.db"))
	db.Now = func() time.Time { return now }
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustReopenDB closes db and opens the same file again, as a restart would.
func MustReopenDB(tb testing.TB, db *sqlite.DB) *sqlite.DB {
	tb.Helper()
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	db2 := sqlite.NewDB(db.Path())
	db2.Now = db.Now
	if err := db2.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db2.Close() })
	return db2
}

// newUUID returns a random FreeSWITCH-style channel UUID.
func newUUID(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// pseudonym returns a value shaped like a Pseudonymizer's output (64 hex digits).
func pseudonym(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

// MustCreateCall stores a pending call started at startedAt.
func MustCreateCall(tb testing.TB, db *sqlite.DB, caller string, startedAt time.Time) *consent.Call {
	tb.Helper()
	c := &consent.Call{UUID: newUUID(tb), CallerPseudonym: caller, Language: "nb", StartedAt: startedAt}
	if err := db.CreateCall(context.Background(), c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// grantProof is a complete proof of a grant.
func grantProof(at time.Time) *consent.Proof {
	return &consent.Proof{DecidedAt: at, Digit: "1", Tries: 2, NoticeVersion: "2025-01-nb",
		NoticeSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Language: "nb", HeardMS: 12548}
}

// MustGrantedCall stores a call with a granted decision and no recording.
func MustGrantedCall(tb testing.TB, db *sqlite.DB, startedAt time.Time) *consent.Call {
	tb.Helper()
	c := MustCreateCall(tb, db, pseudonym(tb), startedAt)
	if err := db.DecideCall(context.Background(), c.UUID, consent.DecisionGranted, grantProof(startedAt.Add(20*time.Second))); err != nil {
		tb.Fatal(err)
	}
	return c
}

// MustGrant stores a call started at startedAt with a grant and its pending recording, as the
// flow does.
func MustGrant(tb testing.TB, db *sqlite.DB, startedAt time.Time) (*consent.Call, *consent.Recording) {
	tb.Helper()
	c := MustCreateCall(tb, db, pseudonym(tb), startedAt)
	r := &consent.Recording{CallUUID: c.UUID, Path: recordings.Path("/var/lib/callconsent/rec", c.UUID, startedAt), StartedAt: startedAt.Add(30 * time.Second)}
	if err := db.Grant(context.Background(), c.UUID, grantProof(startedAt.Add(20*time.Second)), r); err != nil {
		tb.Fatal(err)
	}
	return c, r
}

// callSeq spaces the calls of mustRecordingIn one minute apart, in creation order.
var callSeq time.Duration

// mustRecordingIn returns a granted call whose recording was brought to state by legal steps;
// to deleted through the sweeper's two commits (mustDelete).
func mustRecordingIn(tb testing.TB, db *sqlite.DB, state consent.RecordingState) *consent.Call {
	tb.Helper()
	callSeq += time.Minute
	c, _ := MustGrant(tb, db, now.Add(callSeq))
	for _, s := range storetest.StepsTo(state) {
		if err := db.UpdateRecording(context.Background(), c.UUID, s, consent.RecordingUpdate{}); err != nil {
			tb.Fatal(err)
		}
	}
	if state == consent.RecordingDeleted {
		mustDelete(tb, db, c.UUID, consent.ReasonRetention)
	}
	return c
}

// mustDelete deletes the recording of a call as the sweeper does, without a file: the intent
// (MarkDeleting), then the tombstone (FinishDeletions).
func mustDelete(tb testing.TB, db *sqlite.DB, callUUID string, reason consent.DeletionReason) {
	tb.Helper()
	ctx := context.Background()
	rec := mustFindCall(tb, db, callUUID).Recording
	ts := []consent.Tombstone{{CallUUID: callUUID, Path: rec.Path, Reason: reason, Bytes: rec.Bytes}}
	if _, err := db.MarkDeleting(ctx, ts); err != nil {
		tb.Fatal(err)
	}
	if n, err := db.FinishDeletions(ctx, ts); err != nil || n != 1 {
		tb.Fatalf("FinishDeletions = %d, %v; want 1 tombstone", n, err)
	}
}

// mustFindCall returns the stored call.
func mustFindCall(tb testing.TB, db *sqlite.DB, callUUID string) *consent.Call {
	tb.Helper()
	c, err := db.FindCall(context.Background(), callUUID)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// mustTombstones returns every tombstone in db, oldest first.
func mustTombstones(tb testing.TB, db *sqlite.DB) []*consent.Tombstone {
	tb.Helper()
	return sqlitetest.Tombstones(tb, db.Path())
}

// wantCode fails the test unless err carries the consent error code want.
func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := consent.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}
