package retention

import (
	"context"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Store is what the sweeper needs from the database: queries that read
// only what may be due, and batch commits around the unlinks. consent/sqlite.DB implements it;
// the types are the domain's, so neither package imports the other.
type Store interface {
	// FindDue returns calls with recordings not deleted that started before cutoff, or that
	// are failed or deleting (withdrawn ones are deleting); each with its Recording.
	FindDue(ctx context.Context, cutoff time.Time) ([]*consent.Call, error)
	// FindCallsByUUID returns the known calls among uuids, each with its recording if any.
	FindCallsByUUID(ctx context.Context, uuids []string) ([]*consent.Call, error)
	// CountRecordings returns the number of recordings not yet deleted.
	CountRecordings(ctx context.Context) (int, error)

	// FindIntents returns deletions marked but not finished.
	FindIntents(ctx context.Context) ([]consent.Tombstone, error)
	// MarkDeleting commits the intent to delete, moving rows to deleting, and returns what
	// may now be unlinked.
	MarkDeleting(ctx context.Context, ts []consent.Tombstone) ([]consent.Tombstone, error)
	// FinishDeletions moves rows to deleted and writes each tombstone once.
	FinishDeletions(ctx context.Context, ts []consent.Tombstone) (int, error)

	// PurgeCalls deletes call metadata older than before whose audio is gone.
	PurgeCalls(ctx context.Context, before time.Time) (int64, error)
	// Checkpoint moves the WAL into the database file and truncates it.
	Checkpoint(ctx context.Context) error

	// SweepState and SetSweepState keep small values between sweeps and processes; "" is none.
	SweepState(ctx context.Context, key string) (string, error)
	SetSweepState(ctx context.Context, key, value string) error
}

// Keys of the values the sweeper keeps in the store.
const (
	stateLastSweep      = "last-sweep"       // wall time of the last sweep that acted
	stateLastOrphanScan = "last-orphan-scan" // wall time of the last full orphan scan
	stateClockBehind    = "clock-behind"     // wall time a sweep first found the clock before last-sweep
	stateShareApproval  = "share-approval"   // JSON: an operator's approval of the share guard
)

// rowsFromCalls flattens calls into the policy's rows.
func rowsFromCalls(calls []*consent.Call) []Row {
	rows := make([]Row, 0, len(calls))
	for _, c := range calls {
		r := Row{CallUUID: c.UUID, Decision: c.Decision, Withdrawn: c.Withdrawn()}
		if rec := c.Recording; rec != nil {
			r.Path, r.State, r.StartedAt, r.Bytes = rec.Path, rec.State, rec.StartedAt, rec.Bytes
		}
		rows = append(rows, r)
	}
	return rows
}

func tombstoneOf(a Action, at time.Time) consent.Tombstone {
	return consent.Tombstone{CallUUID: a.CallUUID, Path: a.Path, DeletedAt: at, Reason: a.Reason, Bytes: a.Bytes}
}
