package consent

import (
	"log/slog"
	"time"
)

// RecordingState is the lifecycle state of a recording.
type RecordingState string

// Recording states. pending → recording → complete | failed, then deleting → deleted.
const (
	RecordingPending   RecordingState = "pending"   // record_session sent, RECORD_START not yet seen
	RecordingRecording RecordingState = "recording" // FreeSWITCH confirmed the start
	RecordingComplete  RecordingState = "complete"  // stopped, file finalised and usable
	RecordingFailed    RecordingState = "failed"    // never started, or the file is missing/broken
	RecordingDeleting  RecordingState = "deleting"  // deletion committed as intent, file may still exist
	RecordingDeleted   RecordingState = "deleted"   // file gone, tombstone written

	// RecordingNone is no state of a recording: a CallFilter's value for calls without one.
	RecordingNone RecordingState = "none"
)

// Recording is the audio of one call with consent. Path is absolute and lies below the
// configured recordings folder.
type Recording struct {
	CallUUID   string
	Path       string
	State      RecordingState
	StartedAt  time.Time // when record_session was sent (UTC); retention counts from here
	EndedAt    time.Time // when the recording stopped; zero while live
	DurationMS int64
	Bytes      int64
}

// RecordingFiles is the recordings folder as the flow and the reconciler need it. The domain
// touches no recording file itself: the recordings package implements this on the real folder,
// and the daemon wires it in.
type RecordingFiles interface {
	// RecordingPath returns where the recording of a call started at t is written: an absolute
	// path below the recordings folder.
	RecordingPath(callUUID string, t time.Time) string
	// MakeFolder creates the folder of the recording at path, for FreeSWITCH to write it in.
	MakeFolder(path string) error
	// Finalise makes the stopped recording at path private and decides its final state from the
	// file: complete with its size and duration, or failed when it is missing or unusable.
	// Problems with the file's mode are logged to log.
	Finalise(path string, ended time.Time, log *slog.Logger) (RecordingState, RecordingUpdate)
}

// RecordingUpdate carries the fields set by a state transition. Zero fields are left unchanged.
type RecordingUpdate struct {
	EndedAt    time.Time
	DurationMS int64
	Bytes      int64
}

// RecordingEnd is how a call's recording ended, as the flow knows it at the hang-up: complete
// or failed, from the file, or failed because FreeSWITCH did not confirm the start.
type RecordingEnd struct {
	State RecordingState
	RecordingUpdate
}

// RecordingFilter selects recordings. Zero fields do not filter.
type RecordingFilter struct {
	CallUUID        string
	CallerPseudonym string
	States          []RecordingState
	StartedBefore   time.Time // exclusive
	Limit           int
}

// Tombstone proves that a recording was deleted, and why (R-RETAIN-3). It carries no personal
// data: the call UUID links it to the decision row while that row exists.
type Tombstone struct {
	CallUUID  string
	Path      string
	DeletedAt time.Time
	Reason    DeletionReason
	Bytes     int64
}

// DeletionReason says why a recording or file was deleted.
type DeletionReason string

// Deletion reasons, each written on the tombstone.
const (
	ReasonRetention  DeletionReason = "retention"   // older than the retention period
	ReasonWithdrawal DeletionReason = "withdrawal"  // the caller withdrew consent
	ReasonNotGranted DeletionReason = "not-granted" // audio of a call without a grant: must never exist
	ReasonOrphan     DeletionReason = "orphan"      // a file with no row, older than the grace period
	ReasonFailed     DeletionReason = "failed"      // partial file of a failed recording
)

// Withdrawal records that a caller withdrew consent for a call (R-WITHDRAW-1).
type Withdrawal struct {
	CallUUID string
	At       time.Time
	Reason   string // free text given by the admin; must not contain personal data
}
