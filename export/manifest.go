package export

import (
	"time"

	"github.com/callconsent/callconsent/consent"
)

// ManifestFormat and ManifestVersion name the layout of manifest.json
// (docs/dsar-manifest.md, testdata/schema/dsar-manifest.schema.json). A change that a reader
// of version 1 would misread raises the version.
const (
	ManifestFormat  = "callconsent-dsar"
	ManifestVersion = 1
)

// Manifest is manifest.json of an access archive: everything callconsent holds about one
// caller, and who accessed it. It names the caller only by pseudonym: the number was typed by
// the security officer and is never stored, here or anywhere.
type Manifest struct {
	Format          string    `json:"format"`
	FormatVersion   int       `json:"format_version"`
	CreatedAt       time.Time `json:"created_at"`
	CreatedBy       string    `json:"created_by"`
	CallerPseudonym string    `json:"caller_pseudonym"`
	// Since and Until are the period of the calls asked for ([since, until) of their start),
	// null when not limited.
	Since   *time.Time       `json:"since"`
	Until   *time.Time       `json:"until"`
	Calls   []ManifestCall   `json:"calls"`
	Notices []ManifestNotice `json:"notices"`
	Audit   []ManifestAudit  `json:"audit"`
	// Files lists every file of the archive but manifest.json, with its SHA-256.
	Files []ManifestFile `json:"files"`
}

// ManifestCall is one call of the caller, newest first.
type ManifestCall struct {
	UUID       string              `json:"uuid"`
	StartedAt  time.Time           `json:"started_at"`
	EndedAt    *time.Time          `json:"ended_at"` // null while live or never stamped
	Language   string              `json:"language"`
	Decision   consent.Decision    `json:"decision"`
	Proof      *ManifestProof      `json:"proof"`      // null: no key was taken on a prompt
	Withdrawal *ManifestWithdrawal `json:"withdrawal"` // null: consent not withdrawn
	Recording  *ManifestRecording  `json:"recording"`  // null: never recorded
	Tombstones []ManifestTombstone `json:"tombstones"` // deletions of the call's audio
}

// ManifestProof is the stored proof of a decision (R-CONSENT-4), and where the notice it names
// lies in the archive, so that its hash can be checked.
type ManifestProof struct {
	DecidedAt     time.Time `json:"decided_at"`
	Digit         string    `json:"digit"`
	Tries         int       `json:"tries"`
	NoticeVersion string    `json:"notice_version"`
	NoticeSHA256  string    `json:"notice_sha256"`
	Language      string    `json:"language"`
	HeardMS       int64     `json:"heard_ms"`
	NoticeFile    *string   `json:"notice_file"` // null when the archive does not hold it (see notices)
}

// ManifestWithdrawal is the caller's withdrawal of consent for the call.
type ManifestWithdrawal struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// ManifestRecording is the life of the call's recording as the store keeps it: started, ended,
// the state it is in now, its length and size, and its file in the archive while it is held.
type ManifestRecording struct {
	State      consent.RecordingState `json:"state"`
	StartedAt  time.Time              `json:"started_at"`
	EndedAt    *time.Time             `json:"ended_at"`
	DurationMS int64                  `json:"duration_ms"`
	Bytes      int64                  `json:"bytes"`
	File       *string                `json:"file"` // audio/<uuid>.wav, or null
	Note       string                 `json:"note,omitempty"`
}

// ManifestTombstone proves a deletion of the call's audio (R-RETAIN-3): when and why.
type ManifestTombstone struct {
	DeletedAt time.Time              `json:"deleted_at"`
	Reason    consent.DeletionReason `json:"reason"`
	Bytes     int64                  `json:"bytes"`
}

// ManifestNotice is a consent notice the caller heard, by language and version, with the hash
// the proofs name and its file in the archive when the file held now has that hash.
type ManifestNotice struct {
	Language string  `json:"language"`
	Version  string  `json:"version"`
	SHA256   string  `json:"sha256"`
	File     *string `json:"file"`
	Note     string  `json:"note,omitempty"`
}

// ManifestAudit is an audit log entry that names one of the caller's calls: who did what to
// them, when, for which purpose and why. Calls lists only this caller's calls of the entry, so
// an entry about several callers' calls tells nothing about the others.
type ManifestAudit struct {
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Role    string    `json:"role"`
	Action  string    `json:"action"`
	Purpose string    `json:"purpose"`
	Reason  string    `json:"reason"`
	Result  string    `json:"result"`
	Calls   []string  `json:"calls"`
}

// ManifestFile is a file of the archive with its SHA-256 and size.
type ManifestFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}
