package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/export"
	"github.com/callconsent/callconsent/web"
)

// webAccess is the console's backend: each of its requests goes to the access service, which
// decides and audits, and only then to the calls, the audio or the withdrawer. It holds no rule
// of its own; it translates between the console's forms and the services' calls.
type webAccess struct {
	svc     *access.Service
	exports *export.Service // training exports and access-request archives
	calls   consent.CallFinder
	// withdraw is the daemon's own withdrawal, the one the control socket runs for the CLI.
	withdraw func(context.Context, consent.WithdrawRequest) (consent.WithdrawResult, error)
	now      func() time.Time
	// logins says whether a failed login's name waits or is locked, alike for every name.
	logins *access.LoginStates
}

var (
	_ web.Auth    = (*webAccess)(nil)
	_ web.Calls   = (*webAccess)(nil)
	_ web.Officer = (*webAccess)(nil)
)

// actorOf is the access actor of a console session (whose role the access service gave).
func actorOf(s web.Session) access.Actor {
	return access.Actor{Kind: access.ActorUser, Name: s.User, Role: access.Role(s.Role)}
}

// webError sorts the services' coded errors into what the console shows: a denial (ECONFLICT,
// "access denied: why"), bad input, not found, or an ended session.
func webError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, access.ErrNoSession) {
		return &web.Error{Kind: web.KindExpired, Message: "log in again"}
	}
	switch consent.ErrorCode(err) {
	case consent.ECONFLICT:
		return &web.Error{Kind: web.KindDenied, Message: consent.ErrorMessage(err)}
	case consent.EINVALID:
		return &web.Error{Kind: web.KindInvalid, Message: consent.ErrorMessage(err)}
	case consent.ENOTFOUND:
		return &web.Error{Kind: web.KindNotFound, Message: consent.ErrorMessage(err)}
	}
	return err
}

func (b *webAccess) Login(ctx context.Context, user, password string) (web.Session, error) {
	token, actor, err := b.svc.StartSession(ctx, user, password)
	if err != nil {
		if errors.Is(err, access.ErrPasswordReset) {
			return web.Session{}, &web.Error{Kind: web.KindLocked, Message: web.LoginMustChange}
		}
		return web.Session{}, b.loginError(ctx, user, err)
	}
	return web.Session{ID: token, User: actor.Name, Role: web.Role(actor.Role)}, nil
}

// ChangePassword is the access service's own change (the current password checked as a login,
// the user's sessions ended), then a new session with the new password.
func (b *webAccess) ChangePassword(ctx context.Context, user, current, newPassword string) (web.Session, error) {
	if _, err := b.svc.ChangeOwnPassword(ctx, user, current, newPassword); err != nil {
		return web.Session{}, b.loginError(ctx, user, err)
	}
	return b.Login(ctx, user, newPassword)
}

// loginError is a failed check of a password as the console shows it: the name waits or is
// locked (alike for every name), or the one reply to everything else.
func (b *webAccess) loginError(ctx context.Context, user string, err error) error {
	if errors.Is(err, access.ErrLoginFailed) {
		if why := b.locked(ctx, user); why != "" {
			return &web.Error{Kind: web.KindLocked, Message: why}
		}
	}
	return webError(err)
}

// locked says why a failed login's name takes no password now, so the sign-in page can say
// so instead of "wrong password" (which a right password typed then would get too):
// web.LoginLocked or web.LoginThrottled; "" otherwise. Names without an account go through
// the same schedule (access.LoginStates), so the answer tells nobody which names exist.
func (b *webAccess) locked(ctx context.Context, name string) string {
	switch b.logins.AfterFailure(ctx, name) {
	case access.LoginLocked:
		return web.LoginLocked
	case access.LoginThrottled:
		return web.LoginThrottled
	}
	return ""
}

func (b *webAccess) Resume(ctx context.Context, id string) (web.Session, error) {
	actor, err := b.svc.Session(ctx, id)
	if err != nil {
		return web.Session{}, webError(err)
	}
	return web.Session{ID: id, User: actor.Name, Role: web.Role(actor.Role)}, nil
}

func (b *webAccess) Logout(ctx context.Context, id string) error {
	return webError(b.svc.EndSession(ctx, id))
}

// Purposes are the purposes of the user's live grants that are still approved: what the
// search form offers (Authorize decides again on every request).
func (b *webAccess) Purposes(ctx context.Context, s web.Session) ([]web.Purpose, error) {
	if s.Role != web.RoleManager {
		return nil, nil
	}
	all, err := b.svc.Purposes(ctx)
	if err != nil {
		return nil, err
	}
	now := b.now()
	var out []web.Purpose
	err = b.svc.Store.View(ctx, func(tx access.Tx) error {
		grants, err := tx.Grants(s.User)
		if err != nil {
			return err
		}
		for _, p := range all {
			for _, g := range grants {
				if p.Active() && g.Covers(p.Name, now) {
					out = append(out, web.Purpose{Name: p.Name, Description: p.Description})
					break
				}
			}
		}
		return nil
	})
	return out, err
}

// describeQuery is a search's filters for the audit entry: never the caller's pseudonym, only
// that one was given.
func describeQuery(q web.Query) string {
	var d []string
	if !q.Since.IsZero() {
		d = append(d, "since "+q.Since.UTC().Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		d = append(d, "until "+q.Until.UTC().Format(time.RFC3339))
	}
	if q.Decision != "" {
		d = append(d, "decision "+string(q.Decision))
	}
	if q.Recording != "" {
		d = append(d, "recording "+string(q.Recording))
	}
	if q.CallerPseudonym != "" {
		d = append(d, "one caller")
	}
	d = append(d, fmt.Sprintf("offset %d", q.Offset))
	return "web: " + strings.Join(d, ", ")
}

// Search is authorised (purpose, reason, grant), then run; its entry names the calls it
// returned and is written before any of them is shown.
func (b *webAccess) Search(ctx context.Context, s web.Session, c web.Case, q web.Query) ([]*consent.Call, error) {
	acc, err := b.svc.Authorize(ctx, actorOf(s), access.Request{Action: access.ActionSearch, Purpose: c.Purpose, Reason: c.Reason, Detail: describeQuery(q)})
	if err != nil {
		return nil, webError(err)
	}
	calls, err := b.calls.FindCalls(ctx, consent.CallFilter{CallerPseudonym: q.CallerPseudonym, Decision: q.Decision, Recording: q.Recording,
		Since: q.Since, Until: q.Until, Offset: q.Offset, Limit: q.Limit})
	if err != nil {
		acc.Fail(ctx, err)
		return nil, webError(err)
	}
	uuids := make([]string, 0, len(calls))
	for _, c := range calls {
		uuids = append(uuids, c.UUID)
	}
	if err := acc.Done(ctx, callObjects(uuids...), fmt.Sprintf("returned %d calls", len(calls))); err != nil {
		return nil, err
	}
	return calls, nil
}

// Call is one call's page: a search for that call, authorised and audited as one.
func (b *webAccess) Call(ctx context.Context, s web.Session, c web.Case, uuid string) (*consent.Call, error) {
	acc, err := b.svc.Authorize(ctx, actorOf(s), access.Request{Action: access.ActionSearch, Purpose: c.Purpose, Reason: c.Reason,
		Objects: []access.Object{{Kind: access.ObjectCall, ID: uuid}}, Detail: "web: call page"})
	if err != nil {
		return nil, webError(err)
	}
	call, err := b.calls.FindCall(ctx, uuid)
	if err != nil {
		acc.Fail(ctx, err)
		return nil, webError(err)
	}
	if err := acc.Done(ctx, nil, "1 call"); err != nil {
		return nil, err
	}
	return call, nil
}

// Listen is authorised and audited once; the audio is only that of a call the CLI's listen
// would play (playable: consent given, not withdrawn, the recording complete).
func (b *webAccess) Listen(ctx context.Context, s web.Session, c web.Case, uuid string) (string, error) {
	acc, err := b.svc.Authorize(ctx, actorOf(s), access.Request{Action: access.ActionListen, Purpose: c.Purpose, Reason: c.Reason,
		Objects: []access.Object{{Kind: access.ObjectCall, ID: uuid}}, Detail: "web: player"})
	if err != nil {
		return "", webError(err)
	}
	call, err := b.calls.FindCall(ctx, uuid)
	if err == nil && !playable(call) {
		err = consent.Errorf(consent.ECONFLICT, "call %s has no recording that may be heard: consent not given or withdrawn, or the recording is not complete", uuid)
	}
	if err != nil {
		acc.Fail(ctx, err)
		return "", webError(err)
	}
	if err := acc.Done(ctx, nil, ""); err != nil {
		return "", err
	}
	return call.Recording.Path, nil
}

// Playable checks a granted listen's call again on each audio request (not audited: the listen
// was): consent withdrawn or the recording gone since ends the player.
func (b *webAccess) Playable(ctx context.Context, uuid string) error {
	call, err := b.calls.FindCall(ctx, uuid)
	if err != nil {
		return webError(err)
	}
	if !playable(call) {
		return &web.Error{Kind: web.KindNotFound, Message: "the recording may no longer be heard"}
	}
	return nil
}
