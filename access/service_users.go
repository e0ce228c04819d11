package access

import (
	"context"
	"fmt"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Login checks name and password and returns the user's actor. Every failure gets the same
// reply (ErrLoginFailed) after the same work: an unknown name verifies a dummy hash. Failed
// logins are counted with the user and throttled (FailureDelay); while throttled or locked the
// password is not even tried. Success and failure are audited; a failure for an unknown name
// does not record the name, which is often a password typed into the wrong field.
//
// The hash is verified outside any transaction (it takes a tenth of a second or more, and the
// database has one writer, which calls' decisions wait for), at most MaxHashing at once; the
// outcome is then applied to the user's row as it is by then.
func (s *Service) Login(ctx context.Context, name, password string) (Actor, error) {
	return s.authenticate(ctx, name, password, "login.failed", func(_ Tx, cur *User, audit func(Entry)) error {
		e := entryFor(Actor{Kind: ActorUser, Name: cur.Name, Role: cur.Role}, "login")
		e.Objects = []Object{{ObjectUser, cur.Name}}
		audit(e)
		return nil
	})
}

// authenticate checks name's password as Login describes (same reply, same work, same
// throttle, failures audited as failAction) and, when it is right, runs then on the user's row
// in the transaction that clears the failures; then audits the success and may change cur,
// which is stored after it.
func (s *Service) authenticate(ctx context.Context, name, password, failAction string, then func(tx Tx, cur *User, audit func(Entry)) error) (Actor, error) {
	dummyHash, err := s.dummy()
	if err != nil {
		return Actor{}, fmt.Errorf("login: %w", err)
	}
	var u User
	known := ValidName("user", name) == nil
	if known {
		err = s.Store.View(ctx, func(tx Tx) error {
			var err error
			u, err = tx.User(name)
			return err
		})
		if consent.ErrorCode(err) == consent.ENOTFOUND {
			known = false
		} else if err != nil {
			return Actor{}, err
		}
	}
	hash := dummyHash
	if known && !u.Locked(s.now()) {
		hash = u.PasswordHash
	}
	ok, verifyErr := s.verifyPassword(ctx, password, hash)
	if ctx.Err() != nil {
		return Actor{}, ctx.Err()
	}
	ok = ok && known && hash == u.PasswordHash

	var actor Actor
	err = s.update(ctx, func(tx Tx, audit func(Entry)) error {
		if !known {
			audit(Entry{ActorKind: ActorUser, Action: failAction, Result: ResultDenied, Detail: "unknown user"})
			return nil
		}
		now := s.now()
		cur, err := tx.User(name)
		if err != nil {
			return err
		}
		fail := func(detail string) {
			e := entryFor(Actor{Kind: ActorUser, Name: cur.Name, Role: cur.Role}, failAction)
			e.Result, e.Detail = ResultDenied, detail
			e.Objects = []Object{{ObjectUser, cur.Name}}
			audit(e)
		}
		switch {
		case hash != u.PasswordHash || cur.Locked(now):
			fail("throttled or locked until " + cur.LockedUntil.Format(time.RFC3339))
			return nil
		case cur.PasswordHash != u.PasswordHash:
			fail("the password changed during the login")
			return nil
		case cur.Disabled:
			fail("disabled")
			return nil
		case !ok:
			cur.FailedLogins++
			cur.LockedUntil = time.Time{}
			if d := FailureDelay(cur.FailedLogins); d > 0 {
				cur.LockedUntil = now.Add(d)
			}
			detail := "wrong password"
			if cur.FailedLogins >= LockoutFailures {
				detail += "; locked until " + cur.LockedUntil.Format(time.RFC3339)
			}
			fail(detail)
			return tx.UpdateUser(cur)
		}
		before := cur
		cur.FailedLogins, cur.LockedUntil = 0, time.Time{}
		if err := then(tx, &cur, audit); err != nil {
			return err
		}
		if cur != before {
			if err := tx.UpdateUser(cur); err != nil {
				return err
			}
		}
		actor = Actor{Kind: ActorUser, Name: cur.Name, Role: cur.Role}
		return nil
	})
	if err != nil {
		return Actor{}, err
	}
	if actor.Name == "" {
		if verifyErr != nil && s.Logger != nil {
			s.Logger.Error("a stored password hash cannot be read", "err", verifyErr)
		}
		return Actor{}, ErrLoginFailed
	}
	return actor, nil
}

// HasOfficer reports whether an enabled security officer exists; while none does, the host
// account may add one without logging in (Bootstrap).
func (s *Service) HasOfficer(ctx context.Context) (bool, error) {
	found := false
	err := s.Store.View(ctx, func(tx Tx) error {
		us, err := tx.Users()
		for _, u := range us {
			found = found || u.Role == RoleSecurityOfficer && !u.Disabled
		}
		return err
	})
	return found, err
}

// Bootstrap adds the first security officer on the host, without a login, audited as a
// bootstrap by the OS account. It is refused once an enabled security officer exists: from
// then on every change needs one.
func (s *Service) Bootstrap(ctx context.Context, host Actor, name, password string) error {
	if host.Kind != ActorHost {
		return consent.Errorf(consent.ECONFLICT, "the bootstrap runs on the host only")
	}
	return s.addUser(ctx, host, name, RoleSecurityOfficer, password, true)
}

// AddUser adds a user; by must be a security officer.
func (s *Service) AddUser(ctx context.Context, by Actor, name string, role Role, password string) error {
	return s.addUser(ctx, by, name, role, password, false)
}

func (s *Service) addUser(ctx context.Context, by Actor, name string, role Role, password string, bootstrap bool) error {
	if err := ValidName("user", name); err != nil {
		return err
	}
	if !role.Valid() {
		return consent.Errorf(consent.EINVALID, "role %q is not a role: use security-officer or line-manager", clip(string(role)))
	}
	if err := CheckPassword(name, password); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	action := "user.add"
	if bootstrap {
		action = "user.bootstrap"
	}
	return s.update(ctx, func(tx Tx, audit func(Entry)) error {
		e := entryFor(by, action)
		e.Objects = []Object{{ObjectUser, name}}
		e.Detail = "role " + string(role)
		if bootstrap {
			if ok, err := s.hasOfficerTx(tx); err != nil {
				return err
			} else if ok {
				e.Result, e.Detail = ResultDenied, "a security officer exists"
				audit(e)
				return consent.Errorf(consent.ECONFLICT, "access denied: a security officer exists already; log in as one with --as NAME to add users")
			}
		} else if err := s.authorizeTx(tx, by, ActionManageUsers, "", "", &e, audit); err != nil {
			return err
		}
		audit(e)
		return tx.InsertUser(User{Name: name, Role: role, PasswordHash: hash, CreatedAt: s.now(), CreatedBy: by.String()})
	})
}

func (s *Service) hasOfficerTx(tx Tx) (bool, error) {
	us, err := tx.Users()
	for _, u := range us {
		if u.Role == RoleSecurityOfficer && !u.Disabled {
			return true, err
		}
	}
	return false, err
}

// authorizeTx runs Authorize for by inside tx. A denial is audited (e with result denied) and
// returned as an error; on success e is left for the caller to complete and audit.
func (s *Service) authorizeTx(tx Tx, by Actor, action Action, purpose, reason string, e *Entry, audit func(Entry)) error {
	var user *User
	var grants []Grant
	var purposes []Purpose
	if by.Kind == ActorUser {
		u, err := tx.User(by.Name)
		if err != nil && consent.ErrorCode(err) != consent.ENOTFOUND {
			return err
		} else if err == nil {
			user = &u
		}
		if by.Role == RoleLineManager {
			if grants, err = tx.Grants(by.Name); err != nil {
				return err
			}
			if purposes, err = tx.Purposes(); err != nil {
				return err
			}
		}
	}
	d := Authorize(by, user, action, purpose, reason, s.now(), grants, purposes)
	if !d.Allowed {
		e.Result, e.Detail = ResultDenied, joinDetail(e.Detail, d.Why)
		audit(*e)
		return denied(d)
	}
	if d.Grant != 0 {
		e.Objects = append(e.Objects, Object{ObjectGrant, itoa(d.Grant)})
	}
	return nil
}

// DisableUser disables name and ends its sessions; users are never deleted.
func (s *Service) DisableUser(ctx context.Context, by Actor, name, reason string) error {
	return s.changeUser(ctx, by, name, "user.disable", ActionManageUsers, reason, func(tx Tx, u *User) error {
		u.Disabled = true
		_, err := tx.DeleteSessions(u.Name)
		return err
	})
}

// UnlockUser clears name's failed logins and lockout: a security officer, or the host account
// (so that locked-out officers can be let in again).
func (s *Service) UnlockUser(ctx context.Context, by Actor, name string) error {
	return s.changeUser(ctx, by, name, "user.unlock", ActionUnlockUser, "", func(_ Tx, u *User) error {
		u.FailedLogins, u.LockedUntil = 0, time.Time{}
		return nil
	})
}

// SetPassword sets name's password (a reset by an officer, or a user's own change when by is
// that user) and ends all of name's sessions. A reset is good for one thing only: the user's
// own change (User.MustChangePassword), so the officer who knows it cannot act as the user.
func (s *Service) SetPassword(ctx context.Context, by Actor, name, password string) error {
	if err := CheckPassword(name, password); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	self := by.Kind == ActorUser && by.Name == name
	if self {
		// A reset password kept as one's own would stay known to the officer who chose it.
		var u User
		if err := s.Store.View(ctx, func(tx Tx) error { u, err = tx.User(name); return err }); err != nil {
			return err
		}
		if u.MustChangePassword {
			if same, _ := s.verifyPassword(ctx, password, u.PasswordHash); same {
				return consent.Errorf(consent.EINVALID, "the new password must differ from the current one")
			}
		}
	}
	return s.changeUser(ctx, by, name, "user.passwd", ActionManageUsers, "", func(tx Tx, u *User) error {
		u.PasswordHash = hash
		u.MustChangePassword = !self
		u.FailedLogins, u.LockedUntil = 0, time.Time{}
		_, err := tx.DeleteSessions(u.Name)
		return err
	})
}

// ChangeOwnPassword sets name's password to newPassword after checking current exactly as
// Login does (the same reply whatever failed, the same throttle and lockout, counted with the
// logins; failures audited as user.passwd), so that a user who only has the web console can
// replace a password an officer set (User.MustChangePassword), or their own. The change is
// audited as user.passwd by the user and ends all of their sessions, in one transaction with the
// check. The new password must keep the rules (CheckPassword) and differ from the current one:
// a reset password kept as one's own would stay known to the officer who chose it.
func (s *Service) ChangeOwnPassword(ctx context.Context, name, current, newPassword string) (Actor, error) {
	if err := CheckPassword(name, newPassword); err != nil {
		return Actor{}, err
	}
	if newPassword == current {
		return Actor{}, consent.Errorf(consent.EINVALID, "the new password must differ from the current one")
	}
	// Hashed before the check (outside any transaction, as every hash), so that the change
	// commits with the check that allowed it; a wrong current password costs this hash too.
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return Actor{}, err
	}
	return s.authenticate(ctx, name, current, "user.passwd", func(tx Tx, cur *User, audit func(Entry)) error {
		e := entryFor(Actor{Kind: ActorUser, Name: cur.Name, Role: cur.Role}, "user.passwd")
		e.Objects = []Object{{ObjectUser, cur.Name}}
		e.Detail = "own password"
		if cur.MustChangePassword {
			e.Detail = "own password, replacing one a security officer set"
		}
		cur.PasswordHash, cur.MustChangePassword = hash, false
		if _, err := tx.DeleteSessions(cur.Name); err != nil {
			return err
		}
		audit(e)
		return nil
	})
}

func (s *Service) changeUser(ctx context.Context, by Actor, name, action string, act Action, reason string, change func(Tx, *User) error) error {
	return s.update(ctx, func(tx Tx, audit func(Entry)) error {
		e := entryFor(by, action)
		e.Reason = reason
		e.Objects = []Object{{ObjectUser, name}}
		self := action == "user.passwd" && by.Kind == ActorUser && by.Name == name
		if !self {
			if err := s.authorizeTx(tx, by, act, "", reason, &e, audit); err != nil {
				return err
			}
		}
		u, err := tx.User(name)
		if err != nil {
			return err
		}
		if err := change(tx, &u); err != nil {
			return err
		}
		audit(e)
		return tx.UpdateUser(u)
	})
}

// Users lists the users for a security officer, without their password hashes.
func (s *Service) Users(ctx context.Context, by Actor) ([]User, error) {
	var out []User
	err := s.update(ctx, func(tx Tx, audit func(Entry)) error {
		e := entryFor(by, "user.list")
		if err := s.authorizeTx(tx, by, ActionManageUsers, "", "", &e, audit); err != nil {
			return err
		}
		us, err := tx.Users()
		for i := range us {
			us[i].PasswordHash = ""
		}
		out = us
		audit(e)
		return err
	})
	return out, err
}
