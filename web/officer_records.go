package web

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// maxAuditRows bounds the audit page; narrower filters show older entries.
const maxAuditRows = 500

type auditData struct {
	Filter struct{ Since, Actor, Action, Call string }
	Check  Verification
	Rows   []AuditEntry
	Full   bool
}

// auditPage shows the audit chain's verification at the top, in plain words, then the
// entries that match the filters, newest first.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, sess *Session) {
	q := r.URL.Query()
	var d auditData
	d.Filter.Since, d.Filter.Actor, d.Filter.Action, d.Filter.Call = q.Get("since"), q.Get("actor"), q.Get("action"), q.Get("call")
	f := AuditFilter{Actor: strings.TrimSpace(d.Filter.Actor), Action: strings.TrimSpace(d.Filter.Action), Limit: maxAuditRows + 1}
	if d.Filter.Since != "" {
		t, err := time.ParseInLocation("2006-01-02", d.Filter.Since, s.cfg.Location)
		if err != nil {
			s.renderStatus(w, r, http.StatusBadRequest, sess, "audit", pageData{Title: "audit.title", Problem: "audit.baddate", Data: d})
			return
		}
		f.Since = t
	}
	if d.Filter.Call != "" {
		uuid, ok := consent.CanonicalUUID(strings.TrimSpace(d.Filter.Call))
		if !ok {
			s.renderStatus(w, r, http.StatusBadRequest, sess, "audit", pageData{Title: "audit.title", Problem: "error.baduuid", Data: d})
			return
		}
		f.Call = uuid
	}
	check, err := s.cfg.Officer.VerifyAudit(r.Context(), *sess)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	d.Check = check
	rows, err := s.cfg.Officer.Audit(r.Context(), *sess, f)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	if len(rows) > maxAuditRows {
		rows, d.Full = rows[:maxAuditRows], true
	}
	d.Rows = rows
	s.render(w, r, sess, "audit", pageData{Title: "audit.title", Data: d})
}

func (s *Server) dsarPage(w http.ResponseWriter, r *http.Request, sess *Session) {
	s.render(w, r, sess, "dsar", pageData{Title: "dsar.title"})
}

// dsar makes a caller's access-request archive (the export service: authorised, audited) and
// sends it as a download. The number is turned into the pseudonym here and goes no further.
func (s *Server) dsar(w http.ResponseWriter, r *http.Request, sess *Session) {
	number := strings.TrimSpace(r.PostFormValue("number"))
	if _, ok := consent.NormalizeNumber(number); !ok {
		s.renderStatus(w, r, http.StatusBadRequest, sess, "dsar", pageData{Title: "dsar.title", Problem: "search.badnumber"})
		return
	}
	var since, until time.Time
	for _, d := range []struct {
		field string
		t     *time.Time
		days  int
	}{{"from", &since, 0}, {"to", &until, 1}} {
		if v := strings.TrimSpace(r.PostFormValue(d.field)); v != "" {
			t, err := time.ParseInLocation("2006-01-02", v, s.cfg.Location)
			if err != nil {
				s.renderStatus(w, r, http.StatusBadRequest, sess, "dsar", pageData{Title: "dsar.title", Problem: "search.baddate"})
				return
			}
			*d.t = t.AddDate(0, 0, d.days) // to: the whole last day
		}
	}
	pseudonym, reason := s.cfg.Pseudonym(number), strings.TrimSpace(r.PostFormValue("reason"))
	s.download(w, r, sess, "application/zip", func(f io.Writer) (string, error) {
		return s.cfg.Officer.DSAR(r.Context(), *sess, pseudonym, reason, since, until, f)
	})
}

type withdrawData struct {
	Result *Withdrawal
	Left   string // what remains to do, when the withdrawal is committed but not all done
}

func (s *Server) withdrawPage(w http.ResponseWriter, r *http.Request, sess *Session) {
	s.render(w, r, sess, "withdraw", pageData{Title: "withdraw.title"})
}

// withdraw withdraws consent on a caller's behalf: one call by UUID, or every call of a
// number (turned into the pseudonym here), with a reason. It is the daemon's own withdrawal,
// the same the CLI's withdraw asks for over the control socket.
func (s *Server) withdraw(w http.ResponseWriter, r *http.Request, sess *Session) {
	req := consent.WithdrawRequest{Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if call := strings.TrimSpace(r.PostFormValue("call")); call != "" {
		req.CallUUID, _ = consent.CanonicalUUID(call)
	}
	if number := strings.TrimSpace(r.PostFormValue("number")); number != "" {
		if _, ok := consent.NormalizeNumber(number); !ok {
			s.renderStatus(w, r, http.StatusBadRequest, sess, "withdraw", pageData{Title: "withdraw.title", Problem: "search.badnumber"})
			return
		}
		req.CallerPseudonym = s.cfg.Pseudonym(number)
	}
	if err := req.Validate(); err != nil {
		s.renderStatus(w, r, http.StatusBadRequest, sess, "withdraw", pageData{Title: "withdraw.title", Problem: consent.ErrorMessage(err)})
		return
	}
	res, err := s.cfg.Officer.Withdraw(r.Context(), *sess, req)
	d := withdrawData{}
	switch {
	case err == nil:
		d.Result = &res
	case consent.ErrorCode(err) == consent.ECONFLICT && len(res.Calls) > 0:
		d.Result, d.Left = &res, consent.ErrorMessage(err)
	case Kind(err) == KindDenied || Kind(err) == KindNotFound || Kind(err) == KindInvalid:
		s.renderStatus(w, r, http.StatusBadRequest, sess, "withdraw", pageData{Title: "withdraw.title", Problem: Message(err)})
		return
	default:
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "withdraw", pageData{Title: "withdraw.title", Notice: "done.withdrawn", Data: d})
}
