package access

import (
	"slices"
	"time"
)

// Grant lets one line manager search, listen and export for a set of purposes until it expires
// or is revoked (R-ACCESS-2). Grants are never deleted: a revoked or expired grant still says
// who could have listened when.
type Grant struct {
	ID        int64
	User      string   // the line manager
	Purposes  []string // sorted, at least one
	ExpiresAt time.Time
	GrantedBy string
	GrantedAt time.Time
	Reason    string // why it was given

	RevokedAt    time.Time // zero while not revoked
	RevokedBy    string
	RevokeReason string
}

// GrantState is a grant's state at a moment.
type GrantState string

// The states of a grant.
const (
	GrantActive  GrantState = "active"
	GrantExpired GrantState = "expired"
	GrantRevoked GrantState = "revoked"
)

// State returns g's state at now; a grant revoked after it expired is revoked.
func (g Grant) State(now time.Time) GrantState {
	switch {
	case !g.RevokedAt.IsZero():
		return GrantRevoked
	case !now.Before(g.ExpiresAt):
		return GrantExpired
	}
	return GrantActive
}

// Covers reports whether g is active at now and names purpose.
func (g Grant) Covers(purpose string, now time.Time) bool {
	return g.State(now) == GrantActive && slices.Contains(g.Purposes, purpose)
}

// MaxGrantDuration bounds how far ahead a grant may expire: access is reviewed at least
// yearly, and a typo of the year must not grant access for a century.
const MaxGrantDuration = 366 * 24 * time.Hour

// Purpose is an approved reason to process recordings (R-PURPOSE-1/2). Purposes are data in the
// store, added and retired by a security officer with a reason; never deleted, so that old
// audit entries and grants keep naming an approved purpose.
type Purpose struct {
	Name        string
	Description string
	ApprovedBy  string
	ApprovedAt  time.Time
	Reason      string

	RetiredAt    time.Time // zero while in force
	RetiredBy    string
	RetireReason string
}

// Active reports whether the purpose is in force.
func (p Purpose) Active() bool { return p.RetiredAt.IsZero() }

// activePurpose reports whether name is an active purpose of ps.
func activePurpose(ps []Purpose, name string) bool {
	return slices.ContainsFunc(ps, func(p Purpose) bool { return p.Name == name && p.Active() })
}
