package web

import (
	"context"
	"io"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// User is an account as the security officer's pages show it.
type User struct {
	Name        string
	Role        Role
	Disabled    bool
	LockedUntil time.Time // zero when not locked
	Created     time.Time
}

// Grant is a security officer's grant of purposes to a line manager.
type Grant struct {
	ID        string
	User      string
	Purposes  []string
	ExpiresAt time.Time
	Reason    string
	GrantedBy string
	GrantedAt time.Time
	RevokedAt time.Time // zero while not revoked
	RevokedBy string
	Revoked   string // the revocation's reason
}

// PurposeRecord is a purpose with its approval and, once retired, its retirement.
type PurposeRecord struct {
	Name          string
	Description   string
	ApprovedBy    string
	ApprovedAt    time.Time
	Reason        string
	RetiredAt     time.Time
	RetiredReason string
}

// AuditEntry is one line of the audit log. It names calls by UUID, never callers.
type AuditEntry struct {
	Seq     int64
	At      time.Time
	Actor   string
	Role    string
	Action  string
	Purpose string
	Reason  string
	Objects []string
	Result  string
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	Since  time.Time
	Actor  string
	Action string
	Call   string
	Limit  int
}

// Verification is the audit chain's check, in words a security officer reads.
type Verification struct {
	OK      bool
	Entries int64
	Message string // what was found, e.g. which entry was changed
}

// NewUser is the form of a new account.
type NewUser struct {
	Name, Password string
	Role           Role
}

// NewGrant is the form of a new grant.
type NewGrant struct {
	User      string
	Purposes  []string
	ExpiresAt time.Time
	Reason    string
}

// Officer is what a security officer does, each step authorised and audited by the access
// service (a line manager asking gets KindDenied from there, not from a page).
type Officer interface {
	Users(ctx context.Context, s Session) ([]User, error)
	AddUser(ctx context.Context, s Session, u NewUser) error
	DisableUser(ctx context.Context, s Session, name, reason string) error
	ResetPassword(ctx context.Context, s Session, name, password string) error
	Unlock(ctx context.Context, s Session, name string) error

	Grants(ctx context.Context, s Session, all bool) ([]Grant, error)
	AddGrant(ctx context.Context, s Session, g NewGrant) (string, error)
	RevokeGrant(ctx context.Context, s Session, id, reason string) error

	AllPurposes(ctx context.Context, s Session) ([]PurposeRecord, error)
	AddPurpose(ctx context.Context, s Session, name, description, reason string) error
	RetirePurpose(ctx context.Context, s Session, name, reason string) error

	Audit(ctx context.Context, s Session, f AuditFilter) ([]AuditEntry, error)
	VerifyAudit(ctx context.Context, s Session) (Verification, error)

	// DSAR writes the access-request archive of the caller with that pseudonym, of the calls
	// started in [since, until) (zero: unbounded), to w and returns the download's file name.
	DSAR(ctx context.Context, s Session, callerPseudonym, reason string, since, until time.Time, w io.Writer) (string, error)
	// Withdraw withdraws consent on a caller's behalf, as the CLI's withdraw does through
	// the daemon: a live recording stopped, the audio deleted at once. It also returns the
	// training copies made from the withdrawn calls, which must now be removed.
	Withdraw(ctx context.Context, s Session, req consent.WithdrawRequest) (Withdrawal, error)
}

// Withdrawal is what a withdrawal did, with the training copies of its calls.
type Withdrawal struct {
	consent.WithdrawResult
	Copies []TrainingCopy
}

// TrainingCopy is a training export made from a withdrawn call: only the audit log knows it,
// and the security officer has it removed by its id.
type TrainingCopy struct {
	ExportID, Call, By string
	At                 time.Time
}
