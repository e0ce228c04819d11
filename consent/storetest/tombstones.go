package storetest

import (
	"context"
	"testing"

	"github.com/callconsent/callconsent/consent"
)

// deleter is the sweeper's deletion protocol (retention.Store's MarkDeleting and
// FinishDeletions): the only way a tombstone comes to exist, so the tombstone query's contract
// makes its tombstones through it. Every store the sweeper runs on has it.
type deleter interface {
	MarkDeleting(ctx context.Context, ts []consent.Tombstone) ([]consent.Tombstone, error)
	FinishDeletions(ctx context.Context, ts []consent.Tombstone) (int, error)
}

// testFindTombstones: a caller's access archive shows the deletions of their calls and of no
// one else's, also once a call had its recording deleted for more than one reason.
func (c *contract) testFindTombstones(t *testing.T) {
	ctx := context.Background()
	s := c.store(t)
	d, ok := s.(deleter)
	if !ok {
		t.Fatalf("%T has no MarkDeleting and FinishDeletions: the retention sweeper cannot run on it", s)
	}
	mine := c.recordingIn(t, s, consent.RecordingComplete)
	other := c.recordingIn(t, s, consent.RecordingComplete)
	kept := c.recordingIn(t, s, consent.RecordingComplete)
	for _, call := range []*consent.Call{mine, other} {
		rec := mustFindCall(t, s, call.UUID).Recording
		ts := []consent.Tombstone{{CallUUID: call.UUID, Path: rec.Path, Reason: consent.ReasonRetention, Bytes: 4096}}
		if _, err := d.MarkDeleting(ctx, ts); err != nil {
			t.Fatal(err)
		}
		if n, err := d.FinishDeletions(ctx, ts); err != nil || n != 1 {
			t.Fatalf("FinishDeletions = %d, %v", n, err)
		}
	}
	got, err := s.FindTombstones(ctx, []string{mine.UUID, kept.UUID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].CallUUID != mine.UUID || got[0].Reason != consent.ReasonRetention || got[0].Bytes != 4096 ||
		got[0].DeletedAt.IsZero() || got[0].Path == "" {
		t.Fatalf("FindTombstones(mine, kept) = %+v; want the one tombstone of mine", got)
	}
	if got, err := s.FindTombstones(ctx, nil); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("FindTombstones(none) = %v, %v; want []", got, err)
	}
	many := make([]string, 1200) // more than one statement's parameters may hold
	for i := range many {
		many[i] = newUUID(t)
	}
	many[1100] = other.UUID
	if got, err := s.FindTombstones(ctx, many); err != nil || len(got) != 1 || got[0].CallUUID != other.UUID {
		t.Fatalf("FindTombstones(1200 uuids) = %+v, %v; want other's tombstone", got, err)
	}
}
