package web

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// The console decides nothing itself: every question of who may do what is answered by the
// access service behind these interfaces, which also writes the audit log. They are defined
// here, by their one consumer, and cmd/callconsent wires the real services in. A handler only
// turns a form into a call and the answer (or the refusal) into a page.

// Role is a user's one role.
type Role string

// The two roles of the access layer.
const (
	RoleOfficer Role = "security-officer"
	RoleManager Role = "line-manager"
)

// Session is a signed-in user as the access service knows them. ID is the secret the cookie
// carries; it is never logged or shown.
type Session struct {
	ID   string
	User string
	Role Role
}

// Auth signs users in and out and resumes their sessions, which live in the database with
// their idle and absolute timeouts.
type Auth interface {
	// Login checks a password (throttled, with lockout) and starts a new session, with a new
	// id: an id a browser held before the login is never reused.
	Login(ctx context.Context, user, password string) (Session, error)
	// Resume returns the session of id and counts this request as activity; an unknown,
	// ended or timed-out session is an error of kind KindExpired.
	Resume(ctx context.Context, id string) (Session, error)
	// Logout ends the session of id.
	Logout(ctx context.Context, id string) error
	// ChangePassword sets user's own password after checking current as Login does (the same
	// throttle; a failure is an error of kind KindDenied or KindLocked as Login's), ends every
	// session of the user and starts a new one with the new password. It is how a user whose
	// password a security officer set (LoginMustChange) gets a session at all.
	ChangePassword(ctx context.Context, user, current, newPassword string) (Session, error)
}

// Purpose is one purpose a user may state, with its description.
type Purpose struct {
	Name        string
	Description string
}

// Case is what a line manager states before any result: the purpose (one of their live
// grants) and the reason. Every search, listen and export carries it to the access service.
type Case struct {
	Purpose string
	Reason  string
}

// Query is a search's filters. The caller's number never reaches it: the handler turns it
// into the pseudonym at once.
type Query struct {
	Since, Until    time.Time // on the call's start; until exclusive
	Decision        consent.Decision
	Recording       consent.RecordingState
	CallerPseudonym string
	Offset, Limit   int
}

// Calls is what a line manager does, each step authorised and audited by the access service.
type Calls interface {
	// Purposes lists the purposes of the user's live grants, the only ones they may state.
	Purposes(ctx context.Context, s Session) ([]Purpose, error)
	// Search returns one page of the calls matching q, newest first.
	Search(ctx context.Context, s Session, c Case, q Query) ([]*consent.Call, error)
	// Call returns one call with its proof and recording.
	Call(ctx context.Context, s Session, c Case, uuid string) (*consent.Call, error)
	// Listen authorises listening to a call's recording (one audit entry) and returns the path
	// of its audio file.
	Listen(ctx context.Context, s Session, c Case, uuid string) (string, error)
	// Playable says whether the call's audio may still be heard (nil), checked again on each
	// request of a listen already granted: a withdrawal stops a player at once.
	Playable(ctx context.Context, uuid string) error
	// Export writes the training export of a call, with the ranges (in the CLI's --mute form)
	// muted, to w, and returns the download's file name.
	Export(ctx context.Context, s Session, c Case, uuid string, mutes []string, w io.Writer) (string, error)
}

// Error kinds a service's error is sorted into for the page (see Kind).
const (
	KindDenied   = "denied"   // not allowed; the message says why
	KindLocked   = "locked"   // the account is locked after failed logins
	KindExpired  = "expired"  // no session, or it timed out: back to the login page
	KindInvalid  = "invalid"  // the form is wrong; the message says what to fix
	KindNotFound = "notfound" // no such call, user, grant, ...
	KindInternal = "internal" // anything else; the message is not shown
)

// The messages of a KindLocked login error: which page text to show.
const (
	LoginLocked    = "locked"    // locked out after many failures
	LoginThrottled = "throttled" // a short wait after a few failures
	// LoginMustChange: the password was set by a security officer (a reset) and must first be
	// replaced by the user's own (the sign-in shows the form that does it, Auth.ChangePassword).
	LoginMustChange = "must-change"
)

// Error is a service's answer the console shows as it is. The wiring turns the services' own
// errors into it, so the pages need no knowledge of their types.
type Error struct {
	Kind    string
	Message string // for the user; no personal data
}

// Error implements error: the kind and the message.
func (e *Error) Error() string { return e.Kind + ": " + e.Message }

// Kind returns the kind of err: an *Error's, consent's codes mapped, else KindInternal.
func Kind(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Kind
	}
	switch consent.ErrorCode(err) {
	case consent.EINVALID:
		return KindInvalid
	case consent.ENOTFOUND:
		return KindNotFound
	}
	return KindInternal
}

// Message is what the page shows of err: the service's message, never an internal error's.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal {
		return e.Message
	} else if k := Kind(err); k == KindInvalid || k == KindNotFound {
		return consent.ErrorMessage(err)
	}
	return ""
}
