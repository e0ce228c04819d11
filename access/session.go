package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"

	"github.com/callconsent/callconsent/consent"
)

// ErrNoSession is the reply to a session token that is unknown, ended or timed out: the web
// console sends the browser to the login page.
var ErrNoSession = consent.Errorf(consent.ENOTFOUND, "no session: log in")

// ErrPasswordReset is the reply to a web sign-in with a password someone else set (a reset):
// it opens no session and allows nothing but the user's own change (ChangeOwnPassword), which
// the console's sign-in then asks for.
var ErrPasswordReset error = consent.Errorf(consent.ECONFLICT, "your password was set by a security officer: set your own first, then sign in with it")

// tokenHash is what the store keeps of a session token.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// StartSession logs name in (Login, with its throttling and audit) and starts a new web
// session, returning its random token (32 bytes, base64url) for a cookie. A new login is a new
// session (rotation); past MaxSessions the user's oldest sessions end.
func (s *Service) StartSession(ctx context.Context, name, password string) (string, Actor, error) {
	actor, err := s.Login(ctx, name, password)
	if err != nil {
		return "", Actor{}, err
	}
	// A reset password opens no session: the user sets their own first (ChangeOwnPassword; it
	// allows nothing else anyway, Authorize).
	var u User
	if err := s.Store.View(ctx, func(tx Tx) error { u, err = tx.User(actor.Name); return err }); err != nil {
		return "", Actor{}, err
	}
	if u.MustChangePassword {
		return "", Actor{}, ErrPasswordReset
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Actor{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()
	err = s.Store.Update(ctx, func(tx Tx) error {
		ss, err := tx.Sessions(actor.Name)
		if err != nil {
			return err
		}
		for i := 0; i < len(ss)-max(s.MaxSessions, 1)+1; i++ {
			if err := tx.DeleteSession(ss[i].TokenHash); err != nil {
				return err
			}
		}
		return tx.InsertSession(Session{TokenHash: tokenHash(token), User: actor.Name, CreatedAt: now, LastUsed: now})
	})
	if err != nil {
		return "", Actor{}, err
	}
	return token, actor, nil
}

// Session returns the actor of a session token and marks it used. A session idle longer than
// IdleTimeout, older than MaxAge, or whose user is disabled ends here: ErrNoSession.
func (s *Service) Session(ctx context.Context, token string) (Actor, error) {
	if token == "" || len(token) > 128 {
		return Actor{}, ErrNoSession
	}
	h := tokenHash(token)
	var actor Actor
	err := s.Store.Update(ctx, func(tx Tx) error {
		now := s.now()
		ss, err := tx.Session(h)
		if consent.ErrorCode(err) == consent.ENOTFOUND {
			return ErrNoSession
		} else if err != nil {
			return err
		}
		u, err := tx.User(ss.User)
		if err != nil && consent.ErrorCode(err) != consent.ENOTFOUND {
			return err
		}
		if err != nil || u.Disabled || now.Sub(ss.LastUsed) >= s.IdleTimeout || now.Sub(ss.CreatedAt) >= s.MaxAge {
			if err := tx.DeleteSession(h); err != nil {
				return err
			}
			actor = Actor{}
			return nil
		}
		actor = Actor{Kind: ActorUser, Name: u.Name, Role: u.Role}
		return tx.TouchSession(h, now)
	})
	if err != nil {
		return Actor{}, err
	}
	if actor.Name == "" {
		return Actor{}, ErrNoSession
	}
	return actor, nil
}

// EndSession ends a session (logout), audited as a logout.
func (s *Service) EndSession(ctx context.Context, token string) error {
	h := tokenHash(token)
	return s.update(ctx, func(tx Tx, audit func(Entry)) error {
		ss, err := tx.Session(h)
		if consent.ErrorCode(err) == consent.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		e := entryFor(Actor{Kind: ActorUser, Name: ss.User}, "logout")
		if u, err := tx.User(ss.User); err == nil {
			e.Role = u.Role
		}
		audit(e)
		return tx.DeleteSession(h)
	})
}
