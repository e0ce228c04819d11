package consent

import (
	"context"
	"time"
)

// The store keeps calls, decisions, recordings and withdrawals durably. Every method that
// changes state returns only after the change is committed to disk: a nil error from Grant
// means the grant survives a power cut (R-CONSENT-3); an error means the change was not stored.
//
// Each consumer names the part of the store it uses, and nothing more: the flow's writes
// (FlowStore), reconcile's (ReconcileStore), the withdrawer's (WithdrawStore), the queries
// (CallFinder), the key binding (KeyStore); the retention sweeper has its own
// (retention.Store). A method belongs to a consumer's interface only if that consumer calls it,
// so that a store implements what is used, and one consumer's writes can change (e.g. fewer
// commits per call) without touching the others. consent/sqlite implements all of them, and
// consent/storetest is the contract every implementation must pass.

// FlowStore is what the consent flow writes while it drives one call.
type FlowStore interface {
	// CreateCall inserts a new call with decision pending. A call UUID stored before is
	// refused (ECONFLICT); a caller pseudonym that is a phone number is refused (EINVALID).
	CreateCall(ctx context.Context, c *Call) error
	// DecideCall sets the decision and proof of a pending call (see CheckDecisionTransition).
	// A grant needs its proof; a zero p.DecidedAt is set to the store's time.
	DecideCall(ctx context.Context, callUUID string, d Decision, p *Proof) error
	// Grant stores a grant with its proof and the call's pending recording in one transaction,
	// so that one durable commit stands between the caller's key and record_session. On error
	// neither is stored; a call whose consent was withdrawn gets no recording (ECONFLICT).
	Grant(ctx context.Context, callUUID string, p *Proof, r *Recording) error
	// UpdateRecording moves a call's recording to a new state (see CheckRecordingTransition),
	// setting the non-zero fields of u. The move to deleted is refused: it needs its
	// tombstone, which only the retention sweeper writes.
	UpdateRecording(ctx context.Context, callUUID string, to RecordingState, u RecordingUpdate) error
	// EndCall stamps the end of a call; calling it again keeps the first end time.
	EndCall(ctx context.Context, callUUID string, endedAt time.Time) error
}

// ReconcileStore is what Reconciler reads and writes to settle the rows a crash, a restart or a
// lost socket left half-done. Its writes behave as FlowStore's of the same name.
type ReconcileStore interface {
	// FindRecordings returns the recordings matching f, oldest first.
	FindRecordings(ctx context.Context, f RecordingFilter) ([]*Recording, error)
	// FindCalls returns the calls matching f, newest first, with their recordings.
	FindCalls(ctx context.Context, f CallFilter) ([]*Call, error)
	DecideCall(ctx context.Context, callUUID string, d Decision, p *Proof) error
	UpdateRecording(ctx context.Context, callUUID string, to RecordingState, u RecordingUpdate) error
	EndCall(ctx context.Context, callUUID string, endedAt time.Time) error
}

// CallFinder reads calls with their recordings: the CLI's queries and a withdrawal's preview.
type CallFinder interface {
	// FindCall returns a call with its recording, or an ENOTFOUND error.
	FindCall(ctx context.Context, callUUID string) (*Call, error)
	// FindCalls returns the calls matching f, newest first, with their recordings.
	FindCalls(ctx context.Context, f CallFilter) ([]*Call, error)
}

// WithdrawStore is what Withdrawer reads and writes.
type WithdrawStore interface {
	CallFinder
	// Withdraw marks consent for a call as withdrawn and, in the same transaction, moves a
	// recording that is not yet deleted to deleting. It returns the recording as it is after
	// the change, or nil when the call has none. Withdrawing twice keeps the first time and
	// reason.
	Withdraw(ctx context.Context, w Withdrawal) (*Recording, error)
}

// SubjectFinder reads everything held about one caller, for a data subject's access archive
// (R-ACCESS-3): their calls (FindCalls by CallerPseudonym) and the tombstones of the recordings
// deleted from them, which outlive neither the call row nor, once purged, the proof that the
// audio is gone.
type SubjectFinder interface {
	// FindCalls returns the calls matching f, newest first, with their recordings.
	FindCalls(ctx context.Context, f CallFilter) ([]*Call, error)
	// FindTombstones returns the tombstones of the given calls, oldest first; none is [].
	FindTombstones(ctx context.Context, callUUIDs []string) ([]*Tombstone, error)
}
