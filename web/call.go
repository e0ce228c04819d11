package web

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

type callData struct {
	Case   Case
	Call   *consent.Call
	Listen string // the audio's URL once a listen was granted
}

func readCase(r *http.Request) Case {
	return Case{Purpose: r.PostFormValue("purpose"), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
}

// callUUID is the call of the request's path in canonical form; false when it is no UUID.
func callUUID(r *http.Request) (string, bool) {
	return consent.CanonicalUUID(r.PathValue("uuid"))
}

// callPage shows one call: its proof in plain words, its recording's life, and a button to
// listen. It is opened from a search, with that search's purpose and reason, which the access
// service checks again: a grant revoked since is refused here too.
func (s *Server) callPage(w http.ResponseWriter, r *http.Request, sess *Session) {
	uuid, ok := callUUID(r)
	if !ok {
		s.fail(w, r, sess, &Error{Kind: KindInvalid, Message: "error.baduuid"})
		return
	}
	c := readCase(r)
	call, err := s.cfg.Calls.Call(r.Context(), *sess, c, uuid)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "call", pageData{Title: "call.title", Data: callData{Case: c, Call: call}})
}

// listen asks the access service to let this user listen to the call (one audit entry for
// this listen) and shows the call page again with a player. The player's URL holds a token
// bound to this session and call: the browser's many range requests for the audio are parts
// of the one listen, not new ones.
func (s *Server) listen(w http.ResponseWriter, r *http.Request, sess *Session) {
	uuid, ok := callUUID(r)
	if !ok {
		s.fail(w, r, sess, &Error{Kind: KindInvalid, Message: "error.baduuid"})
		return
	}
	c := readCase(r)
	call, err := s.cfg.Calls.Call(r.Context(), *sess, c, uuid)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	path, err := s.cfg.Calls.Listen(r.Context(), *sess, c, uuid)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	token, err := s.listens.issue(sess.ID, uuid, path)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "call", pageData{Title: "call.title", Data: callData{Case: c, Call: call, Listen: "/audio/" + token}})
}

// audio streams a granted listen's file with range requests (http.ServeContent), so the
// player can seek. Only the session the token was issued to may use it, until it expires, and
// only while the call may still be heard: after a withdrawal the next request is refused.
func (s *Server) audio(w http.ResponseWriter, r *http.Request, sess *Session) {
	l, ok := s.listens.lookup(r.PathValue("token"), sess.ID)
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, sess, "error", pageData{Problem: "listen.expired"})
		return
	}
	if err := s.cfg.Calls.Playable(r.Context(), l.call); err != nil {
		s.listens.forget(r.PathValue("token"))
		s.renderStatus(w, r, http.StatusGone, sess, "error", pageData{Problem: "listen.gone"})
		return
	}
	f, err := os.Open(l.path)
	if err != nil {
		s.log.Error("open recording to listen", "call", l.call, "err", err)
		s.renderStatus(w, r, http.StatusNotFound, sess, "error", pageData{Problem: "listen.gone"})
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		s.renderStatus(w, r, http.StatusNotFound, sess, "error", pageData{Problem: "listen.gone"})
		return
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.audioTimeout))
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", "inline")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}
