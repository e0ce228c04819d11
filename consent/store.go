package consent

import (
	"context"
	"time"
)

// Store keeps calls, decisions, recordings, withdrawals and tombstones durably. Every method that
// changes state returns only after the change is committed to disk: a nil error from DecideCall
// means the decision survives a power cut (R-CONSENT-3). consent/sqlite implements it.
type Store interface {
	// CreateCall inserts a new call with decision pending.
	CreateCall(ctx context.Context, c *Call) error
	// DecideCall sets the decision and proof of a pending call (see CheckDecisionTransition).
	DecideCall(ctx context.Context, callUUID string, d Decision, p *Proof) error
	// Grant stores a grant with its proof and the call's pending recording in one transaction,
	// so that one durable commit stands between the caller's key and record_session. On error
	// neither is stored.
	Grant(ctx context.Context, callUUID string, p *Proof, r *Recording) error
	// EndCall stamps the end of a call; calling it again keeps the first end time.
	EndCall(ctx context.Context, callUUID string, endedAt time.Time) error
	// FindCall returns a call with its recording, or an ENOTFOUND error.
	FindCall(ctx context.Context, callUUID string) (*Call, error)
	// FindCalls returns the calls matching f, newest first, with their recordings.
	FindCalls(ctx context.Context, f CallFilter) ([]*Call, error)

	// UpdateRecording moves a call's recording to a new state (see CheckRecordingTransition),
	// setting the non-zero fields of u.
	UpdateRecording(ctx context.Context, callUUID string, to RecordingState, u RecordingUpdate) error
	// FindRecordings returns the recordings matching f, oldest first.
	FindRecordings(ctx context.Context, f RecordingFilter) ([]*Recording, error)

	// Withdraw marks consent for a call as withdrawn and, in the same transaction, moves a
	// recording that is not yet deleted to deleting. It returns the recording as it is after
	// the change, or nil when the call has none. Withdrawing twice keeps the first time.
	Withdraw(ctx context.Context, w Withdrawal) (*Recording, error)
	// FinishDeletion moves a deleting recording to deleted and writes its tombstone, in one
	// transaction. For files without a row (orphans) it only writes the tombstone.
	FinishDeletion(ctx context.Context, t Tombstone) error
	// FindTombstones returns the tombstones written at or after since, oldest first.
	FindTombstones(ctx context.Context, since time.Time) ([]*Tombstone, error)
}
