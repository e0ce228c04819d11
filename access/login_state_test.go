package access_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
)

// TestLoginStates_SameForUnknownNames: a name without an account is throttled and locked after
// the same failures as a real one, so the sign-in page's "throttled"/"locked" tells nobody which
// names exist (it told: only real accounts were ever shown locked).
func TestLoginStates_SameForUnknownNames(t *testing.T) {
	e := newEnv(t)
	e.staffed(t)
	states := access.NewLoginStates(e.svc)
	for i := 1; i <= access.LockoutFailures+1; i++ {
		var got [2]access.LoginState
		for j, name := range []string{"mats", "nobody"} {
			if _, err := e.svc.Login(ctx, name, "not the password at all"); !errors.Is(err, access.ErrLoginFailed) {
				t.Fatalf("login %s: %v", name, err)
			}
			got[j] = states.AfterFailure(ctx, name)
		}
		if got[0] != got[1] {
			t.Fatalf("failure %d: mats is %q, an unknown name %q", i, got[0], got[1])
		}
		want := access.LoginFailed
		if i >= access.FreeFailures {
			want = access.LoginThrottled
		}
		if i >= access.LockoutFailures {
			want = access.LoginLocked
		}
		if got[0] != want {
			t.Fatalf("failure %d: %q, want %q", i, got[0], want)
		}
		e.clock.Add(access.FailureDelay(i) + time.Second) // wait out the delay, as a patient prober does
		if i >= access.LockoutFailures {
			break
		}
	}
}

// TestLoginStates_Bounded: a flood of made-up names keeps at most MaxUnknownLogins in memory,
// the oldest going first.
func TestLoginStates_Bounded(t *testing.T) {
	e := newEnv(t)
	states := access.NewLoginStates(e.svc)
	for i := range access.MaxUnknownLogins + 10 {
		states.AfterFailure(ctx, fmt.Sprintf("probe-%d", i))
	}
	if n := states.Followed(); n != access.MaxUnknownLogins {
		t.Fatalf("%d names followed, want %d", n, access.MaxUnknownLogins)
	}
}
