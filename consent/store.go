package consent

import (
	"context"
	"time"
)

// The store keeps calls, decisions, recordings and withdrawals durably. Every method that
// changes state returns only after the change is committed to disk (the one exception, the
// end of a call without a recording, is FinishCall's): a nil error from Grant
// means the grant survives a power cut (R-CONSENT-3); an error means the change was not stored.
//
// Each consumer names the part of the store it uses, and nothing more: the flow's writes
// (FlowStore), reconcile's (ReconcileStore), the withdrawer's (WithdrawStore), the queries
// (CallFinder), the key binding (KeyStore); the retention sweeper has its own
// (retention.Store). A method belongs to a consumer's interface only if that consumer calls it,
// so that a store implements what is used, and one consumer's writes can change (e.g. fewer
// commits per call) without touching the others. consent/sqlite implements all of them, and
// consent/storetest is the contract every implementation must pass.

// FlowStore is what the consent flow writes while it drives one call: two commits for a granted
// call, one for any other outcome's decision. A call leaves no row until its decision: a crash
// before it leaves nothing, which is all there is to keep, since no choice was made and nothing
// was recorded. The state a recording passes through between the grant and the hang-up
// (started, or not confirmed) is kept in memory and committed with the end: after a crash
// reconcile rebuilds it from the file on disk, as it always had to for a recording cut off
// mid-call.
type FlowStore interface {
	// StoreDecision inserts a new call with its final decision and, when a prompt was
	// answered, its proof, in one commit; c.EndedAt, when set, is stored too (a call that
	// ended before its choice needs no second commit). A grant needs its proof; a grant
	// stored this way has no recording (the flow could not prepare one). A call UUID stored
	// before is refused (ECONFLICT); a caller pseudonym that is a phone number is refused
	// (EINVALID).
	StoreDecision(ctx context.Context, c *Call) error
	// StoreGrant inserts a new call with its grant and proof and the call's pending recording
	// in one commit, so that one durable commit stands between the caller's key and
	// record_session (R-CONSENT-3). On error nothing is stored.
	StoreGrant(ctx context.Context, c *Call, r *Recording) error
	// FinishCall stamps the end of a call (the first end time wins) and, with end set, moves
	// its recording to end.State (complete or failed, passing through recording when the
	// file shows it started) in the same commit. A recording no longer live (a withdrawal
	// moved it to deleting meanwhile) is left as it is. It returns the recording's state
	// after the commit ("" with end nil). With end nil (no recording), the store may return
	// before the end is on disk, provided a crash loses it whole and nothing else: what it
	// holds, the end time of a call without audio, is neither proof nor needed to erase
	// anything, and reconcile stamps an end a crash lost (ReconcileStore).
	FinishCall(ctx context.Context, callUUID string, endedAt time.Time, end *RecordingEnd) (RecordingState, error)
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
