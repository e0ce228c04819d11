package access

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Action is a kind of request Authorize decides on.
type Action string

// The actions. Each names what is done, so the audit log reads as a sentence.
const (
	ActionSearch         Action = "search"          // list recorded calls (line manager, grant)
	ActionListen         Action = "listen"          // copy a recording's audio (line manager, grant)
	ActionExport         Action = "export"          // training export (line manager, grant)
	ActionDSAR           Action = "dsar"            // data-subject access request export (officer)
	ActionManageUsers    Action = "manage-users"    // add, disable, reset (officer)
	ActionUnlockUser     Action = "unlock-user"     // release a lockout (officer, host)
	ActionManageGrants   Action = "manage-grants"   // give, revoke (officer)
	ActionManagePurposes Action = "manage-purposes" // add, retire (officer)
	ActionReadAudit      Action = "read-audit"      // audit list (officer)
	ActionVerifyAudit    Action = "verify-audit"    // audit verify: prints no entry (officer, host, system)
	ActionWithdraw       Action = "withdraw"        // consent withdrawal (host; officer with a reason: the web console)
	ActionForceSweep     Action = "force-sweep"     // sweep --force (host)
	ActionHostRead       Action = "host-read"       // calls list/show on the host (host)
)

// Reason rules (R-SEC-3): a reason must say something. Three words and fifteen characters rule
// out "qa", "test" and "ticket 1", and still fit "complaint 4711 about agent tone"; a ticket
// number alone is not a reason to listen to someone's voice.
const (
	MinReasonWords = 3
	MinReasonChars = 15
	MaxReasonBytes = 500
)

// CheckReason returns why reason is not a valid reason, or "" when it is one.
func CheckReason(reason string) string {
	r := strings.TrimSpace(reason)
	switch {
	case r == "":
		return "a reason is required"
	case len(r) > MaxReasonBytes:
		return fmt.Sprintf("the reason is longer than %d bytes", MaxReasonBytes)
	case !utf8.ValidString(r) || !oneLine(r):
		return "the reason must be one line of text"
	case len(strings.Fields(r)) < MinReasonWords || utf8.RuneCountInString(r) < MinReasonChars:
		return fmt.Sprintf("the reason must have at least %d words and %d characters, saying why", MinReasonWords, MinReasonChars)
	}
	return ""
}

// Decision is Authorize's answer. Allowed is false with Why saying what is missing, in words the
// actor can act on; Grant is the grant that allowed a line manager's access.
type Decision struct {
	Allowed bool
	Why     string
	Grant   int64
}

func deny(format string, args ...any) Decision {
	return Decision{Why: fmt.Sprintf(format, args...)}
}

// needsGrant are the line manager's actions on recordings.
func needsGrant(a Action) bool { return a == ActionSearch || a == ActionListen || a == ActionExport }

// Authorize is the one decision on access (R-ACCESS-1, R-PURPOSE-3, R-SEC-3). It is pure: the
// caller passes the actor's user record (nil for host and system actors), the actor's grants and
// the purposes, and records the decision, denials included, in the audit log.
//
// Rules: a disabled user may do nothing, nor may a user whose password someone else set (a
// reset) until they set their own (User.MustChangePassword). A line manager may search, listen and export only with
// an active purpose, a reason (CheckReason) and an unexpired, unrevoked grant of that purpose; a
// line manager may do nothing else. A security officer manages users, grants and purposes (with
// a reason for grants and purposes), reads and verifies the audit log, makes DSAR exports and
// withdraws consent on a caller's behalf (each with a reason; the web console's withdrawal
// page); an officer never searches, listens or exports (separation of duties). The
// host account reads calls (calls list/show, reason optional), withdraws, forces a sweep,
// unlocks a locked-out user and verifies the audit log; it never reaches recordings through search or listen. The system
// verifies the audit log.
func Authorize(actor Actor, user *User, action Action, purpose, reason string, now time.Time, grants []Grant, purposes []Purpose) Decision {
	switch actor.Kind {
	case ActorHost:
		switch action {
		case ActionHostRead, ActionWithdraw, ActionForceSweep, ActionVerifyAudit, ActionUnlockUser:
			// Unlocking: one failed login an hour keeps an account locked, and if every officer
			// is locked nobody else could release them (the bootstrap is refused while an
			// enabled officer exists). It grants nothing but another try of the password.
			return Decision{Allowed: true}
		}
		return deny("%s needs a tool user: run it with --as NAME (the host account may not)", action)
	case ActorSystem:
		if action == ActionVerifyAudit {
			return Decision{Allowed: true}
		}
		return deny("%s is not a system action", action)
	case ActorUser:
	default:
		return deny("unknown actor")
	}
	if user == nil || user.Name != actor.Name || user.Role != actor.Role {
		return deny("user %s is not known with role %s", actor.Name, actor.Role)
	}
	if user.Disabled {
		return deny("user %s is disabled", actor.Name)
	}
	if user.MustChangePassword {
		return deny("the password of %s was set by someone else: set your own first (callconsent users passwd %s --as %s)", actor.Name, actor.Name, actor.Name)
	}
	switch actor.Role {
	case RoleSecurityOfficer:
		switch action {
		case ActionManageUsers, ActionUnlockUser, ActionReadAudit, ActionVerifyAudit:
			return Decision{Allowed: true}
		case ActionManageGrants, ActionManagePurposes, ActionDSAR, ActionWithdraw:
			if why := CheckReason(reason); why != "" {
				return deny("%s: %s", action, why)
			}
			return Decision{Allowed: true}
		case ActionSearch, ActionListen, ActionExport:
			return deny("a security officer may not %s recordings (separation of duties): use a line-manager account with its own grant", action)
		}
		return deny("a security officer may not %s", action)
	case RoleLineManager:
		if !needsGrant(action) {
			return deny("a line manager may not %s", action)
		}
		if purpose == "" {
			return deny("%s needs a purpose (--purpose)", action)
		}
		if !activePurpose(purposes, purpose) {
			return deny("purpose %q is not an approved purpose in force", clip(purpose))
		}
		if why := CheckReason(reason); why != "" {
			return deny("%s: %s", action, why)
		}
		var state GrantState
		for _, g := range grants {
			if g.User != actor.Name {
				continue
			}
			if g.Covers(purpose, now) {
				return Decision{Allowed: true, Grant: g.ID}
			}
			if s := g.State(now); state == "" || s == GrantExpired {
				for _, p := range g.Purposes {
					if p == purpose {
						state = s
					}
				}
			}
		}
		if state != "" {
			return deny("%s's grant for %s is %s: ask a security officer for a new grant", actor.Name, purpose, state)
		}
		return deny("%s holds no grant for purpose %s: ask a security officer", actor.Name, purpose)
	}
	return deny("unknown role %q", actor.Role)
}
