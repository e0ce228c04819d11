package consent

import (
	"strings"
	"time"
)

// Call is one inbound call handed to callconsent by FreeSWITCH. It holds no direct identifier:
// the caller is stored as a keyed pseudonym only (R-PSEUDO-1). The employee who takes the call
// is not captured: FreeSWITCH's transfer does not tell us, and no transcript shows where it would.
type Call struct {
	UUID            string    // FreeSWITCH channel UUID (the leg handed to our socket)
	CallerPseudonym string    // HMAC of the normalised caller number, see Pseudonymizer
	Language        string    // language of the notice played
	StartedAt       time.Time // when callconsent took the call (UTC)
	Decision        Decision  // pending until decided
	Proof           *Proof    // set when a decision was taken on a prompt
	EndedAt         time.Time // zero while the call is live
	WithdrawnAt     time.Time // zero unless consent was withdrawn
	// WithdrawalReason is what the operator gave when withdrawing (a ticket id); it must not
	// hold personal data, and withdraw's help says so.
	WithdrawalReason string

	Recording *Recording // the call's one recording, when there is one (read models only)
}

// Validate checks the fields a new call must have.
func (c *Call) Validate() error {
	switch {
	case c.UUID == "":
		return Errorf(EINVALID, "call uuid required")
	case !ValidUUID(c.UUID):
		return Errorf(EINVALID, "call uuid %q is not a uuid", c.UUID)
	case c.CallerPseudonym == "":
		return Errorf(EINVALID, "caller pseudonym required")
	case c.StartedAt.IsZero():
		return Errorf(EINVALID, "call start time required")
	}
	return nil
}

// Withdrawn reports whether the caller withdrew consent for this call.
func (c *Call) Withdrawn() bool { return !c.WithdrawnAt.IsZero() }

// ValidUUID reports whether s is a call UUID in canonical form: 36 characters of lower-case
// hex digits and dashes in the 8-4-4-4-12 pattern. Recording paths are built from it, so
// anything else (slashes, dots) is refused; upper-case hex is refused too, so that one call can
// never become two rows or two paths. Entry points turn what they receive into this form with
// CanonicalUUID.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// CanonicalUUID returns s as callconsent stores and compares call UUIDs (lower case, UUIDs
// being case-insensitive) and whether it is a UUID at all. FreeSWITCH itself looks channels up
// case-sensitively: whoever talks back to it keeps the channel's own spelling.
func CanonicalUUID(s string) (string, bool) {
	c := strings.ToLower(s)
	return c, ValidUUID(c)
}

// CallFilter selects calls for listing. Zero fields do not filter.
type CallFilter struct {
	UUID            string
	CallerPseudonym string
	Decision        Decision
	Since, Until    time.Time // on StartedAt: Since inclusive, Until exclusive
	Unended         bool      // only calls without an end time (EndedAt zero)
	// Recording keeps only calls whose recording is in this state; RecordingNone keeps the
	// calls without a recording (the web console's search filters by it).
	Recording     RecordingState
	Offset, Limit int
}
