// Package storetest is the contract of the consent store: what the flow, reconcile, the
// withdrawer and the CLI rely on, as tests that every implementation runs on a real store of
// its own (consent/sqlite runs it on a SQLite file; a PostgreSQL store will run it too). A test
// here speaks only through the consent interfaces, so it holds for any implementation; what
// depends on one (durability across a restart, its schema's own guards, file modes) is tested
// beside it.
package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Store is every part of the consent store that the contract covers.
type Store interface {
	consent.FlowStore
	consent.ReconcileStore
	consent.WithdrawStore
	consent.KeyStore
	consent.SubjectFinder
	// CreateCall and Grant write a call's first steps one at a time, as the flow did before it
	// stored a call with its decision (FlowStore): rows of that shape (a call still pending) are
	// what a database of an older version holds, and the tests build fixtures with them.
	CreateCall(ctx context.Context, c *consent.Call) error
	Grant(ctx context.Context, callUUID string, p *consent.Proof, r *consent.Recording) error
}

// Open returns a new, empty store whose clock stands still at now, and closes it when t ends.
type Open func(t *testing.T, now time.Time) Store

// Now is the time the contract's stores are opened with; times are stored with nanoseconds,
// so a fraction checks that nothing is truncated.
var Now = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// Run runs the contract against stores from open, each test on a store of its own.
func Run(t *testing.T, open Open) {
	c := &contract{open: open}
	for _, tt := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"CreateCall", c.testCreateCall},
		{"DecideCall", c.testDecideCall},
		{"EndCall", c.testEndCall},
		{"FindCalls", c.testFindCalls},
		{"Grant", c.testGrant},
		{"StoreDecision", c.testStoreDecision},
		{"StoreGrant", c.testStoreGrant},
		{"FinishCall", c.testFinishCall},
		{"RecordingTransitions", c.testRecordingTransitions},
		{"FindRecordings", c.testFindRecordings},
		{"Withdraw", c.testWithdraw},
		{"KeyBinding", c.testKeyBinding},
		{"FindTombstones", c.testFindTombstones},
	} {
		t.Run(tt.name, tt.fn)
	}
}

// contract holds what the tests share: how to open a store, and the spacing of the calls
// recordingIn makes.
type contract struct {
	open Open
	seq  time.Duration
}

// store opens a new, empty store at Now.
func (c *contract) store(t *testing.T) Store {
	t.Helper()
	return c.open(t, Now)
}

// newUUID returns a random FreeSWITCH-style channel UUID.
func newUUID(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// pseudonym returns a value shaped like a Pseudonymizer's output (64 hex digits).
func pseudonym(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// grantProof is a complete proof of a grant.
func grantProof(at time.Time) *consent.Proof {
	return &consent.Proof{DecidedAt: at, Digit: "1", Tries: 2, NoticeVersion: "2025-01-nb",
		NoticeSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Language: "nb", HeardMS: 12548}
}

// newRecording is a new pending recording of c.
func newRecording(c *consent.Call) *consent.Recording {
	return &consent.Recording{CallUUID: c.UUID, Path: "/rec/" + c.StartedAt.Format("2006/01/02") + "/" + c.UUID + ".wav",
		StartedAt: c.StartedAt.Add(30 * time.Second)}
}

// mustCreateCall stores a pending call of caller started at startedAt.
func mustCreateCall(tb testing.TB, s Store, caller string, startedAt time.Time) *consent.Call {
	tb.Helper()
	c := &consent.Call{UUID: newUUID(tb), CallerPseudonym: caller, Language: "nb", StartedAt: startedAt}
	if err := s.CreateCall(context.Background(), c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// mustGrant stores a call started at startedAt with a grant and its pending recording.
func mustGrant(tb testing.TB, s Store, startedAt time.Time) (*consent.Call, *consent.Recording) {
	tb.Helper()
	c := mustCreateCall(tb, s, pseudonym(tb), startedAt)
	r := newRecording(c)
	if err := s.Grant(context.Background(), c.UUID, grantProof(startedAt.Add(20*time.Second)), r); err != nil {
		tb.Fatal(err)
	}
	return c, r
}

// recordingIn returns a granted call whose recording was brought to state by legal steps
// (StepsTo; not deleted, which these interfaces cannot reach). The calls start one minute apart, in
// the order they are made.
func (c *contract) recordingIn(tb testing.TB, s Store, state consent.RecordingState) *consent.Call {
	tb.Helper()
	c.seq += time.Minute
	call, _ := mustGrant(tb, s, Now.Add(c.seq))
	for _, st := range StepsTo(state) {
		if err := s.UpdateRecording(context.Background(), call.UUID, st, consent.RecordingUpdate{}); err != nil {
			tb.Fatal(err)
		}
	}
	return call
}

// StepsTo returns the states UpdateRecording moves a new (pending) recording through, by legal
// transitions, to bring it to state. Deleted is reached only by deleting, which these
// interfaces cannot do: its steps end in deleting, and a test of an implementation deletes it
// from there its own way.
func StepsTo(state consent.RecordingState) []consent.RecordingState {
	return map[consent.RecordingState][]consent.RecordingState{
		consent.RecordingPending:   {},
		consent.RecordingRecording: {consent.RecordingRecording},
		consent.RecordingComplete:  {consent.RecordingRecording, consent.RecordingComplete},
		consent.RecordingFailed:    {consent.RecordingFailed},
		consent.RecordingDeleting:  {consent.RecordingDeleting},
		consent.RecordingDeleted:   {consent.RecordingDeleting},
	}[state]
}

// mustFindCall returns the stored call.
func mustFindCall(tb testing.TB, s Store, callUUID string) *consent.Call {
	tb.Helper()
	c, err := s.FindCall(context.Background(), callUUID)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// wantCode fails the test unless err carries the consent error code want.
func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := consent.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}
