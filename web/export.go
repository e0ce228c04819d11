package web

import (
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/callconsent/callconsent/consent"
	"mime"
	"strings"
)

// maxMutes bounds the ranges one export mutes.
const maxMutes = 100

type exportData struct {
	Case  Case
	Call  *consent.Call
	Mutes string
	// Seconds is the recording's length, the timeline's scale.
	Seconds float64
}

// exportPage shows the training export's form: the ranges to mute, typed or drawn on the
// timeline (assets/timeline.js fills the same field).
func (s *Server) exportPage(w http.ResponseWriter, r *http.Request, sess *Session) {
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
	d := exportData{Case: c, Call: call}
	if call.Recording != nil {
		d.Seconds = float64(call.Recording.DurationMS) / 1000
	}
	s.render(w, r, sess, "export", pageData{Title: "export.title", Data: d})
}

// parseMutes splits the field into ranges (commas, semicolons, spaces or lines between them),
// each in the CLI's --mute form, which the export service reads and checks against the
// recording.
func parseMutes(field string) ([]string, error) {
	mutes := strings.FieldsFunc(field, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == ';' || r == '\t' })
	if len(mutes) > maxMutes {
		return nil, &Error{Kind: KindInvalid, Message: fmt.Sprintf("%d ranges to mute: at most %d", len(mutes), maxMutes)}
	}
	return mutes, nil
}

// export makes the training WAV through the export service (authorised, audited) and sends
// it as a download. It is made in a private temporary file first (a long call's audio does
// not fit in memory), so a refusal is a page, not half a file.
func (s *Server) export(w http.ResponseWriter, r *http.Request, sess *Session) {
	uuid, ok := callUUID(r)
	if !ok {
		s.fail(w, r, sess, &Error{Kind: KindInvalid, Message: "error.baduuid"})
		return
	}
	c := readCase(r)
	mutes, err := parseMutes(r.PostFormValue("mutes"))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.download(w, r, sess, "application/zip", func(f io.Writer) (string, error) {
		return s.cfg.Calls.Export(r.Context(), *sess, c, uuid, mutes, f)
	})
}

// download runs make into a private temporary file (0600, removed at once) and sends it as an
// attachment once make succeeded; an error is a page.
func (s *Server) download(w http.ResponseWriter, r *http.Request, sess *Session, contentType string, make func(io.Writer) (string, error)) {
	f, err := os.CreateTemp("", "callconsent-web-*")
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	os.Remove(f.Name()) // unlinked: only this open file reaches it, and it goes with it
	defer f.Close()
	name, err := make(f)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", fmt.Sprint(size))
	if _, err := io.Copy(w, f); err != nil {
		s.log.Warn("download cut short", "path", routeOf(r), "err", err)
	}
}
