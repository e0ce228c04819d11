package access

import (
	"context"
	"sync"
	"time"
)

// LoginState is what a sign-in page may say of a failed login beyond "failed": that the name
// must wait (LoginThrottled) or is locked out (LoginLocked). LoginFailed says nothing more.
type LoginState string

// The states a failed login can leave a name in.
const (
	LoginFailed    LoginState = ""
	LoginThrottled LoginState = "throttled"
	LoginLocked    LoginState = "locked"
)

// MaxUnknownLogins bounds the names without an account that LoginStates follows at once; a
// flood of made-up names evicts the oldest.
const MaxUnknownLogins = 4096

// LoginStates tells a sign-in page whether a failed login's name is throttled or locked,
// without telling which names exist: a name with no enabled account goes through the same
// schedule (FailureDelay) as a real one, kept in memory, so "locked" after ten failures is
// said of every name alike. (A restart forgets the made-up names' failures while real
// accounts keep theirs in the store; a restart is not in a prober's hands.)
type LoginStates struct {
	svc *Service

	mu      sync.Mutex
	unknown map[string]*unknownLogin
	order   []string // insertion order, for eviction
}

type unknownLogin struct {
	failures    int
	lockedUntil time.Time
}

// NewLoginStates returns the states of failed logins against svc.
func NewLoginStates(svc *Service) *LoginStates {
	return &LoginStates{svc: svc, unknown: map[string]*unknownLogin{}}
}

// AfterFailure returns the state of name right after a login with it failed.
func (l *LoginStates) AfterFailure(ctx context.Context, name string) LoginState {
	now := l.svc.now()
	var u *User
	err := l.svc.Store.View(ctx, func(tx Tx) error {
		got, err := tx.User(name)
		if err == nil {
			u = &got
		}
		return nil
	})
	if err == nil && u != nil && !u.Disabled {
		return stateOf(u.FailedLogins, u.LockedUntil, now)
	}
	return l.unknownFailure(name, now)
}

// unknownFailure counts a failure of a name with no enabled account as the store counts a
// real one: not while it waits, and a wait after the FreeFailures-th.
func (l *LoginStates) unknownFailure(name string, now time.Time) LoginState {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.unknown[name]
	if !ok {
		for len(l.order) >= MaxUnknownLogins {
			delete(l.unknown, l.order[0])
			l.order = l.order[1:]
		}
		p = &unknownLogin{}
		l.unknown[name] = p
		l.order = append(l.order, name)
	}
	if !now.Before(p.lockedUntil) { // a try while waiting counts no further, as for a real account
		p.failures++
		p.lockedUntil = time.Time{}
		if d := FailureDelay(p.failures); d > 0 {
			p.lockedUntil = now.Add(d)
		}
	}
	return stateOf(p.failures, p.lockedUntil, now)
}

func stateOf(failures int, lockedUntil, now time.Time) LoginState {
	switch {
	case !now.Before(lockedUntil):
		return LoginFailed
	case failures >= LockoutFailures:
		return LoginLocked
	}
	return LoginThrottled
}

// Followed returns how many names without an account are followed now (tests check the bound).
func (l *LoginStates) Followed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.unknown)
}
