package access

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callconsent/callconsent/consent"
)

// Hasher makes and checks password hashes (R-SEC-1). The adapter access/argon2id implements it
// with argon2id; the hash is a PHC string that carries its own parameters and salt, so raising
// the parameters later needs no migration: old hashes verify with theirs.
type Hasher interface {
	// Hash returns the PHC string of password with a fresh random salt.
	Hash(password string) (string, error)
	// Verify reports in constant time whether password matches the PHC string.
	Verify(password, phc string) (bool, error)
}

// Password length bounds. Twelve characters is the floor of current guidance for passwords
// people choose; the upper bound keeps a hash request from being a way to burn CPU.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// CheckPassword refuses a password too short, too long, with control characters, or that holds
// the user's name (in any case): such passwords are the first an attacker tries.
func CheckPassword(user, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return consent.Errorf(consent.EINVALID, "password too short: at least %d characters", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return consent.Errorf(consent.EINVALID, "password too long: at most %d bytes", MaxPasswordLen)
	case !utf8.ValidString(password) || !oneLine(password):
		return consent.Errorf(consent.EINVALID, "password must be one line of text without control characters")
	case user != "" && strings.Contains(strings.ToLower(password), strings.ToLower(user)):
		return consent.Errorf(consent.EINVALID, "password must not contain the user name")
	}
	return nil
}

// Throttling of failed logins (R-SEC-1). The first FreeFailures failures cost nothing more
// than the hash; each one after waits twice as long as the one before, from 2 s up to 2 min;
// at LockoutFailures the account is locked for LockoutDuration or until a security officer
// unlocks it. Stored with the user, so a restart keeps it.
const (
	FreeFailures    = 3
	LockoutFailures = 10
	LockoutDuration = time.Hour
)

// FailureDelay returns how long an account waits after its n-th consecutive failed login.
func FailureDelay(n int) time.Duration {
	switch {
	case n <= FreeFailures-1:
		return 0
	case n >= LockoutFailures:
		return LockoutDuration
	}
	return time.Second << (n - FreeFailures + 1) // 3rd: 2s … 9th: 128s
}

// Locked reports whether u may not try to log in at now.
func (u User) Locked(now time.Time) bool { return now.Before(u.LockedUntil) }

// ErrLoginFailed is the one reply to a failed login, whatever failed (unknown user, wrong password,
// disabled, locked): telling them apart would let anyone probe which names exist. The audit
// log holds the real cause.
var ErrLoginFailed = consent.Errorf(consent.ECONFLICT, "login failed: wrong user name or password, or the account is locked or disabled (after repeated failures wait, or ask a security officer to unlock it)")
