package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// sessionCookie names the session cookie. With TLS it carries the __Host- prefix, which a
// browser accepts only with Secure, Path=/ and no Domain: no other host can plant it.
func (s *Server) sessionCookie() string {
	if s.cfg.CertFile != "" {
		return "__Host-callconsent"
	}
	return "callconsent_session"
}

// setSession hands the browser a session id: HttpOnly (no script reads it), SameSite=Strict
// (no other site's page sends it), Secure with TLS. It lives as long as the browser: the
// session's timeouts are the server's.
func (s *Server) setSession(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.CertFile != ""})
}

func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.CertFile != ""})
}

// session resumes the session of r's cookie with the access service; nil when there is none
// or it timed out.
func (s *Server) session(r *http.Request) (*Session, error) {
	c, err := r.Cookie(s.sessionCookie())
	if err != nil || c.Value == "" {
		return nil, &Error{Kind: KindExpired, Message: "not signed in"}
	}
	sess, err := s.cfg.Auth.Resume(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// handlerFunc is a page that needs a signed-in user.
type handlerFunc func(w http.ResponseWriter, r *http.Request, sess *Session)

// manager is a line manager's page; officer a security officer's. Without a session (or with
// one that timed out) the browser goes to the login page, and comes back after it; with the
// other role the page says whose it is. This only routes: what the user may see is the access
// service's answer to each request the page makes.
func (s *Server) manager(h handlerFunc) http.HandlerFunc { return s.withRole(RoleManager, h) }
func (s *Server) officer(h handlerFunc) http.HandlerFunc { return s.withRole(RoleOfficer, h) }

// signedIn is a page for every signed-in user, whatever their role (their own password).
func (s *Server) signedIn(h handlerFunc) http.HandlerFunc { return s.withRole("", h) }

func (s *Server) withRole(role Role, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.session(r)
		if err != nil {
			s.toLogin(w, r, err)
			return
		}
		if role != "" && sess.Role != role {
			s.renderStatus(w, r, http.StatusForbidden, sess, "error", pageData{Problem: "wrongrole." + string(role)})
			return
		}
		h(w, r, sess)
	}
}

// toLogin sends the browser to the login page: a timed-out session says so there; a page
// asked for with GET is where the login leads back to.
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request, err error) {
	if Kind(err) != KindExpired {
		s.fail(w, r, nil, err)
		return
	}
	q := url.Values{}
	if _, cookieErr := r.Cookie(s.sessionCookie()); cookieErr == nil {
		q.Set("expired", "1")
		s.clearSession(w)
	}
	if r.Method == http.MethodGet {
		q.Set("next", r.URL.Path)
	}
	target := "/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	sess, err := s.session(r)
	switch {
	case err != nil:
		s.toLogin(w, r, err)
	case sess.Role == RoleOfficer:
		http.Redirect(w, r, "/users", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/search", http.StatusSeeOther)
	}
}

type loginData struct {
	User string
	Next string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	d := pageData{Title: "login.title", Data: loginData{Next: localPath(r.URL.Query().Get("next"))}}
	if r.URL.Query().Get("expired") == "1" {
		d.Problem = "login.expired"
	} else if r.URL.Query().Get("out") == "1" {
		d.Notice = "login.out"
	}
	s.render(w, r, nil, "login", d)
}

// login checks the password with the access service (which throttles and locks) and starts
// a new session: whatever id the browser had is replaced. A wrong password and an unknown
// user get the same answer; a locked account is told so.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	user := strings.TrimSpace(r.PostFormValue("user"))
	next := localPath(r.PostFormValue("next"))
	sess, err := s.cfg.Auth.Login(r.Context(), user, r.PostFormValue("password"))
	if err != nil {
		d := pageData{Title: "login.title", Data: loginData{User: user, Next: next}, Problem: "login.wrong"}
		status := http.StatusUnauthorized
		switch Kind(err) {
		case KindLocked:
			d.Problem, status = "login.locked", http.StatusForbidden
			switch Message(err) {
			case LoginThrottled:
				d.Problem, status = "login.throttled", http.StatusTooManyRequests
			case LoginMustChange:
				// No session with a password someone else set: the user sets their own here,
				// typing the given one again (it is never put into the page).
				s.showPassword(w, r, nil, http.StatusForbidden, "login.mustchange", passwordData{User: user, Reset: true})
				return
			}
		case KindDenied, KindInvalid, KindNotFound:
		default:
			s.log.Error("login failed", "err", err)
			d.Problem, status = "error.internal", http.StatusInternalServerError
		}
		s.renderStatus(w, r, status, nil, "login", d)
		return
	}
	s.setSession(w, sess.ID)
	if next == "/" || next == "/login" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.sessionCookie()); err == nil && c.Value != "" {
		if err := s.cfg.Auth.Logout(context.WithoutCancel(r.Context()), c.Value); err != nil && Kind(err) != KindExpired {
			s.log.Error("logout failed", "err", err)
		}
	}
	s.clearSession(w)
	http.Redirect(w, r, "/login?out=1", http.StatusSeeOther)
}

// fail shows a service's refusal or error on the error page, with a status that matches it.
// An internal error is logged (its text never holds personal data: the services' errors name
// calls by UUID only) and shown as "something went wrong".
func (s *Server) fail(w http.ResponseWriter, r *http.Request, sess *Session, err error) {
	status, problem := http.StatusInternalServerError, "error.internal"
	switch Kind(err) {
	case KindDenied:
		status, problem = http.StatusForbidden, Message(err)
	case KindLocked:
		status, problem = http.StatusForbidden, Message(err)
	case KindInvalid:
		status, problem = http.StatusBadRequest, Message(err)
	case KindNotFound:
		status, problem = http.StatusNotFound, Message(err)
	case KindExpired:
		s.toLogin(w, r, err)
		return
	default:
		s.log.Error("request failed", "path", routeOf(r), "err", err)
	}
	s.renderStatus(w, r, status, sess, "error", pageData{Problem: problem})
}
