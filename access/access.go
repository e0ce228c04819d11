// Package access is the domain of who may reach recorded calls, for what and why: users with one
// role, grants from a security officer to a line manager for a set of purposes, the purposes
// themselves, one decision point (Authorize), password rules and login throttling, web sessions,
// and the tamper-evident audit log every decision lands in (policy §1–2, §6, §8). Like consent it
// imports no third-party package; of ours only consent's coded Error, so that the CLI maps both
// domains' errors to the same exit codes. Adapters implement its Store (access/sqlite) and Hasher
// (access/argon2id); Service wires them and is the only path to anything access-controlled.
package access

import (
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Role is what a user may do. Each user has exactly one: separation of duties means an officer
// who must listen gets a second, line-manager account with its own grant.
type Role string

// The two roles of R-ACCESS-1.
const (
	// RoleSecurityOfficer manages users, grants and purposes, reads the audit log and makes
	// access-request (DSAR) exports; never searches or listens.
	RoleSecurityOfficer Role = "security-officer"
	// RoleLineManager searches, listens to and exports recordings while holding a grant.
	RoleLineManager Role = "line-manager"
)

// Valid reports whether r is one of the two roles.
func (r Role) Valid() bool { return r == RoleSecurityOfficer || r == RoleLineManager }

// ParseRole returns the role named s, or an EINVALID error naming both roles.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.Valid() {
		return r, nil
	}
	return "", consent.Errorf(consent.EINVALID, "role %q is not a role: use security-officer or line-manager", clip(s))
}

// User is a person who logs in to the tool. Users are never deleted, only disabled, so that the
// audit log's names keep pointing at someone.
type User struct {
	Name         string
	Role         Role
	Disabled     bool
	PasswordHash string // PHC string from a Hasher; never printed, logged or audited
	CreatedAt    time.Time
	CreatedBy    string
	// FailedLogins counts failed logins since the last success or unlock; LockedUntil is when
	// the next attempt is taken (zero: now). Both are stored so that a restart keeps them.
	FailedLogins int
	LockedUntil  time.Time
	// MustChangePassword is set when someone else (a security officer's reset) set the
	// password: until the user sets their own, it allows nothing but that (Authorize), so the
	// one who knows it cannot act in the user's name.
	MustChangePassword bool
}

// ActorKind says how an actor was authenticated.
type ActorKind string

// The kinds of actor.
const (
	// ActorUser is a tool user who logged in with name and password (or a web session).
	ActorUser ActorKind = "user"
	// ActorHost is the operating-system account running a host command (calls, withdraw,
	// sweep --force, the bootstrap): whoever can run it can read the database file anyway, so
	// what it does is recorded, not password protected.
	ActorHost ActorKind = "host"
	// ActorSystem is the daemon itself (a withdrawal over the control socket names its client
	// account as host actor; the periodic audit verification is the system).
	ActorSystem ActorKind = "system"
)

// Actor is who asks. Only Service makes ActorUser actors (after a login or from a session), so
// holding one means the password was checked.
type Actor struct {
	Kind ActorKind
	Name string // user name, or the OS account name for ActorHost
	Role Role   // empty for host and system actors
}

// HostActor returns the actor of a host command run by the OS account name.
func HostActor(osUser string) Actor { return Actor{Kind: ActorHost, Name: osUser} }

// String names the actor as the audit log shows it.
func (a Actor) String() string {
	if a.Kind == ActorUser {
		return a.Name
	}
	return string(a.Kind) + ":" + a.Name
}

// maxName bounds user and purpose names: they are identifiers, not prose.
const maxName = 64

// ValidName checks a user or purpose name: 1–64 characters of lowercase letters, digits, '.',
// '_' and '-', starting with a letter. Names appear in the audit log and in file names of
// exports, so nothing that could be mistaken for markup or a path goes in.
func ValidName(kind, s string) error {
	if s == "" || len(s) > maxName {
		return consent.Errorf(consent.EINVALID, "%s name %q must be 1 to %d characters", kind, clip(s), maxName)
	}
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')
		if !ok {
			return consent.Errorf(consent.EINVALID, "%s name %q: use lowercase letters, digits, '.', '_' and '-', starting with a letter", kind, clip(s))
		}
	}
	return nil
}

// clip shortens a value quoted in an error message, so input cannot flood a terminal or log.
func clip(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// oneLine reports whether s has no control characters (newlines included).
func oneLine(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
