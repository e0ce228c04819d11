package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The security officer's pages: each change is a form posted to the access service, which
// decides and audits; then the page is shown again (303) with what was done, or with the
// service's refusal in words.

type usersData struct{ Users []User }

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, sess *Session) {
	s.showUsers(w, r, sess, http.StatusOK, "")
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, sess *Session, status int, problem string) {
	users, err := s.cfg.Officer.Users(r.Context(), *sess)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.renderStatus(w, r, status, sess, "users", pageData{Title: "users.title", Problem: problem,
		Notice: done(r), Data: usersData{Users: users}})
}

// done is the confirmation a page shows after a change it redirected to ("done" parameter):
// a message key, only one of ours (a link cannot make the page say anything else).
func done(r *http.Request) string {
	key := "done." + r.URL.Query().Get("done")
	if _, ok := messages[langEN][key]; ok {
		return key
	}
	return ""
}

// changed answers a form: on success back to the page with a confirmation, on a refusal the
// page again with it (the service's message), on an internal error the error page.
func (s *Server) changed(w http.ResponseWriter, r *http.Request, sess *Session, err error, page, what string,
	show func(http.ResponseWriter, *http.Request, *Session, int, string)) {
	switch Kind(err) {
	case "":
		http.Redirect(w, r, page+"?done="+url.QueryEscape(what), http.StatusSeeOther)
	case KindDenied:
		show(w, r, sess, http.StatusForbidden, Message(err))
	case KindInvalid, KindNotFound, KindLocked:
		show(w, r, sess, http.StatusBadRequest, Message(err))
	default:
		s.fail(w, r, sess, err)
	}
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request, sess *Session) {
	err := s.cfg.Officer.AddUser(r.Context(), *sess, NewUser{Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: Role(r.PostFormValue("role")), Password: r.PostFormValue("password")})
	s.changed(w, r, sess, err, "/users", "useradded", s.showUsers)
}

func (s *Server) disableUser(w http.ResponseWriter, r *http.Request, sess *Session) {
	err := s.cfg.Officer.DisableUser(r.Context(), *sess, r.PathValue("name"), strings.TrimSpace(r.PostFormValue("reason")))
	s.changed(w, r, sess, err, "/users", "userdisabled", s.showUsers)
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, sess *Session) {
	err := s.cfg.Officer.ResetPassword(r.Context(), *sess, r.PathValue("name"), r.PostFormValue("password"))
	s.changed(w, r, sess, err, "/users", "passwordset", s.showUsers)
}

func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request, sess *Session) {
	err := s.cfg.Officer.Unlock(r.Context(), *sess, r.PathValue("name"))
	s.changed(w, r, sess, err, "/users", "userunlocked", s.showUsers)
}

type grantsData struct {
	All      bool
	Grants   []Grant
	Managers []User
	Purposes []PurposeRecord
	Tomorrow string
}

func (s *Server) grantsPage(w http.ResponseWriter, r *http.Request, sess *Session) {
	s.showGrants(w, r, sess, http.StatusOK, "")
}

func (s *Server) showGrants(w http.ResponseWriter, r *http.Request, sess *Session, status int, problem string) {
	all := r.URL.Query().Get("all") == "1"
	grants, err := s.cfg.Officer.Grants(r.Context(), *sess, all)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	users, err := s.cfg.Officer.Users(r.Context(), *sess)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	purposes, err := s.cfg.Officer.AllPurposes(r.Context(), *sess)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	d := grantsData{All: all, Grants: grants, Tomorrow: formatDay(s.cfg.Now().AddDate(0, 0, 1), s.cfg.Location)}
	for _, u := range users {
		if u.Role == RoleManager && !u.Disabled {
			d.Managers = append(d.Managers, u)
		}
	}
	for _, p := range purposes {
		if p.RetiredAt.IsZero() {
			d.Purposes = append(d.Purposes, p)
		}
	}
	s.renderStatus(w, r, status, sess, "grants", pageData{Title: "grants.title", Problem: problem, Notice: done(r), Data: d})
}

// addGrant grants purposes until the end of the day given (in the site's time zone).
func (s *Server) addGrant(w http.ResponseWriter, r *http.Request, sess *Session) {
	expires, err := time.ParseInLocation("2006-01-02", r.PostFormValue("expires"), s.cfg.Location)
	if err != nil {
		s.showGrants(w, r, sess, http.StatusBadRequest, "grants.baddate")
		return
	}
	_, err = s.cfg.Officer.AddGrant(r.Context(), *sess, NewGrant{User: r.PostFormValue("user"), Purposes: r.PostForm["purpose"],
		ExpiresAt: expires.AddDate(0, 0, 1), Reason: strings.TrimSpace(r.PostFormValue("reason"))})
	s.changed(w, r, sess, err, "/grants", "grantadded", s.showGrants)
}

func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request, sess *Session) {
	err := s.cfg.Officer.RevokeGrant(r.Context(), *sess, r.PathValue("id"), strings.TrimSpace(r.PostFormValue("reason")))
	s.changed(w, r, sess, err, "/grants", "grantrevoked", s.showGrants)
}

type purposesData struct{ Purposes []PurposeRecord }

func (s *Server) purposesPage(w http.ResponseWriter, r *http.Request, sess *Session) {
	s.showPurposes(w, r, sess, http.StatusOK, "")
}

func (s *Server) showPurposes(w http.ResponseWriter, r *http.Request, sess *Session, status int, problem string) {
	ps, err := s.cfg.Officer.AllPurposes(r.Context(), *sess)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.renderStatus(w, r, status, sess, "purposes", pageData{Title: "purposes.title", Problem: problem, Notice: done(r), Data: purposesData{Purposes: ps}})
}

func (s *Server) addPurpose(w http.ResponseWriter, r *http.Request, sess *Session) {
	err := s.cfg.Officer.AddPurpose(r.Context(), *sess, strings.TrimSpace(r.PostFormValue("name")),
		strings.TrimSpace(r.PostFormValue("description")), strings.TrimSpace(r.PostFormValue("reason")))
	s.changed(w, r, sess, err, "/purposes", "purposeadded", s.showPurposes)
}

func (s *Server) retirePurpose(w http.ResponseWriter, r *http.Request, sess *Session) {
	err := s.cfg.Officer.RetirePurpose(r.Context(), *sess, r.PathValue("name"), strings.TrimSpace(r.PostFormValue("reason")))
	s.changed(w, r, sess, err, "/purposes", "purposeretired", s.showPurposes)
}
