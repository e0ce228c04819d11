package web

import (
	"net/http"
	"strings"
)

// The password pages. A signed-in user changes their own password (GET and POST /password,
// linked from the header). A user whose password a security officer set gets no session with
// it (LoginMustChange): the sign-in shows them the same form instead, which posts to
// /password/new without a session and so takes the user name and the given password again.
// Both go to Auth.ChangePassword, which checks the current password as a login does and decides
// whether the new one will do; the page checks only that it was typed twice alike.

type passwordData struct {
	User  string // the signed-in user, or the name typed at the sign-in
	Reset bool   // the form of a user whose password an officer set: no session, name asked
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request, sess *Session) {
	s.showPassword(w, r, sess, http.StatusOK, "", passwordData{User: sess.User})
}

func (s *Server) showPassword(w http.ResponseWriter, r *http.Request, sess *Session, status int, problem string, d passwordData) {
	title := "password.title"
	if d.Reset {
		title = "password.resettitle"
	}
	s.renderStatus(w, r, status, sess, "password", pageData{Title: title, Problem: problem, Notice: done(r), Data: d})
}

// changePassword is a signed-in user's own change.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, sess *Session) {
	s.setPassword(w, r, sess, passwordData{User: sess.User})
}

// newPassword is the change of a user whose password an officer set, who has no session.
func (s *Server) newPassword(w http.ResponseWriter, r *http.Request) {
	s.setPassword(w, r, nil, passwordData{User: strings.TrimSpace(r.PostFormValue("user")), Reset: true})
}

// setPassword asks the access service to change the password and, when it did, hands the
// browser the new session it started (every other session of the user ended with the change).
// A wrong current password gets the sign-in's answers: wrong, must wait, or locked.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, sess *Session, d passwordData) {
	next := r.PostFormValue("new")
	if next != r.PostFormValue("again") {
		s.showPassword(w, r, sess, http.StatusBadRequest, "password.mismatch", d)
		return
	}
	ns, err := s.cfg.Auth.ChangePassword(r.Context(), d.User, r.PostFormValue("current"), next)
	if err != nil {
		status, problem := http.StatusForbidden, "password.wrong"
		switch Kind(err) {
		case KindDenied:
		case KindLocked:
			problem = "login.locked"
			if Message(err) == LoginThrottled {
				status, problem = http.StatusTooManyRequests, "login.throttled"
			}
		case KindInvalid:
			status, problem = http.StatusBadRequest, Message(err)
		default:
			s.log.Error("password change failed", "err", err)
			status, problem = http.StatusInternalServerError, "error.internal"
		}
		s.showPassword(w, r, sess, status, problem, d)
		return
	}
	s.setSession(w, ns.ID)
	if d.Reset {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/password?done=passwordchanged", http.StatusSeeOther)
}
