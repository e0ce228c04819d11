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

// MustGrantedCall stores a call with a granted decision.
func MustGrantedCall(tb testing.TB, db *sqlite.DB, startedAt time.Time) *consent.Call {
	tb.Helper()
	c := MustCreateCall(tb, db, pseudonym(tb), startedAt)
	if err := db.DecideCall(context.Background(), c.UUID, consent.DecisionGranted, grantProof(startedAt.Add(20*time.Second))); err != nil {
		tb.Fatal(err)
	}
	return c
}

// MustRecording stores a pending recording for a granted call.
func MustRecording(tb testing.TB, db *sqlite.DB, c *consent.Call) *consent.Recording {
	tb.Helper()
	r := &consent.Recording{CallUUID: c.UUID, Path: recordings.Path("/var/lib/callconsent/rec", c.UUID, c.StartedAt), StartedAt: c.StartedAt.Add(30 * time.Second)}
	if err := db.CreateRecording(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
	return r
}

// wantCode fails the test unless err carries the consent error code want.
func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := consent.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}
