package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// pageSize is how many calls a search page shows.
const pageSize = 25

// searchForm is the search form as the user filled it in. The caller's number is in it only
// to be shown back in the field of the page answering this very request; it is never stored,
// logged or put in a link.
type searchForm struct {
	Case
	From, To  string // YYYY-MM-DD in the site's time zone, To inclusive
	Decision  string
	Recording string
	Number    string
	Page      int
}

type searchData struct {
	Form       searchForm
	Purposes   []Purpose
	Decisions  []consent.Decision
	Recordings []consent.RecordingState
	Searched   bool
	Calls      []*consent.Call
	More       bool
}

func (s *Server) searchData(r *http.Request, sess *Session, f searchForm) (searchData, error) {
	ps, err := s.cfg.Calls.Purposes(r.Context(), *sess)
	return searchData{Form: f, Purposes: ps, Decisions: consent.Decisions,
		Recordings: append(append([]consent.RecordingState{}, consent.RecordingStates...), consent.RecordingNone)}, err
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request, sess *Session) {
	d, err := s.searchData(r, sess, searchForm{})
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "search", pageData{Title: "search.title", Data: d})
}

// search runs a search: the purpose and the reason go with it to the access service, which
// refuses without them (and audits the refusal); then one page of results.
func (s *Server) search(w http.ResponseWriter, r *http.Request, sess *Session) {
	f := readSearchForm(r)
	d, err := s.searchData(r, sess, f)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	q, problem := s.query(f)
	if problem != "" {
		s.renderStatus(w, r, http.StatusBadRequest, sess, "search", pageData{Title: "search.title", Data: d, Problem: problem})
		return
	}
	calls, err := s.cfg.Calls.Search(r.Context(), *sess, f.Case, q)
	if err != nil {
		status := http.StatusInternalServerError
		switch Kind(err) {
		case KindDenied:
			status = http.StatusForbidden
		case KindInvalid:
			status = http.StatusBadRequest
		case KindExpired:
			s.toLogin(w, r, err)
			return
		default:
			s.fail(w, r, sess, err)
			return
		}
		s.renderStatus(w, r, status, sess, "search", pageData{Title: "search.title", Data: d, Problem: Message(err)})
		return
	}
	d.Searched = true
	if len(calls) > pageSize {
		d.Calls, d.More = calls[:pageSize], true
	} else {
		d.Calls = calls
	}
	s.render(w, r, sess, "search", pageData{Title: "search.title", Data: d})
}

func readSearchForm(r *http.Request) searchForm {
	page, _ := strconv.Atoi(r.PostFormValue("page"))
	return searchForm{
		Case:      Case{Purpose: r.PostFormValue("purpose"), Reason: strings.TrimSpace(r.PostFormValue("reason"))},
		From:      strings.TrimSpace(r.PostFormValue("from")),
		To:        strings.TrimSpace(r.PostFormValue("to")),
		Decision:  r.PostFormValue("decision"),
		Recording: r.PostFormValue("recording"),
		Number:    strings.TrimSpace(r.PostFormValue("number")),
		Page:      max(page, 0),
	}
}

// query turns the form into the service's query, or names what is wrong with it. The number
// becomes the pseudonym here; nothing after this line sees it.
func (s *Server) query(f searchForm) (Query, string) {
	q := Query{Offset: f.Page * pageSize, Limit: pageSize + 1}
	var err error
	if f.From != "" {
		if q.Since, err = time.ParseInLocation("2006-01-02", f.From, s.cfg.Location); err != nil {
			return q, "search.baddate"
		}
	}
	if f.To != "" {
		if q.Until, err = time.ParseInLocation("2006-01-02", f.To, s.cfg.Location); err != nil {
			return q, "search.baddate"
		}
		q.Until = q.Until.AddDate(0, 0, 1) // the whole last day
	}
	if f.Decision != "" {
		d := consent.Decision(f.Decision)
		if !d.Valid() {
			return q, "search.baddecision"
		}
		q.Decision = d
	}
	if f.Recording != "" {
		st := consent.RecordingState(f.Recording)
		if !st.Valid() && st != consent.RecordingNone {
			return q, "search.badrecording"
		}
		q.Recording = st
	}
	if f.Number != "" {
		if _, ok := consent.NormalizeNumber(f.Number); !ok {
			return q, "search.badnumber"
		}
		q.CallerPseudonym = s.cfg.Pseudonym(f.Number)
	}
	return q, ""
}
