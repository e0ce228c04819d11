package access

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of the free text an audit entry keeps (bytes). A reason is a sentence or a ticket id,
// not a document: a request with more is still audited, with the text clipped.
const (
	MaxAuditText   = 500  // actor, purpose, reason, each object id
	MaxAuditDetail = 1000 // detail (filters, counts, the error)
)

// CleanText makes s fit for one line of the audit log: line breaks and tabs become spaces,
// other control and format characters (terminal escapes, bidi overrides) and invalid UTF-8
// become U+FFFD, and the result is clipped to max bytes on a character boundary, "…" marking
// the cut. A forged table row or a screen-clearing escape in a refused reason must not reach
// whoever reads the log.
func CleanText(s string, max int) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Cf) {
			clean = false
			break
		}
	}
	if clean && len(s) <= max {
		return s
	}
	t := strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r) || unicode.In(r, unicode.Cf):
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(t) <= max {
		return t
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(t[cut]) {
		cut--
	}
	return t[:cut] + "…"
}

// cleanEntry applies CleanText to every free-text field of e before it is sealed: every entry,
// denials and failures too, so no input reaches the log unchecked.
func cleanEntry(e *Entry) {
	e.Actor = CleanText(e.Actor, MaxAuditText)
	e.Purpose = CleanText(e.Purpose, MaxAuditText)
	e.Reason = CleanText(e.Reason, MaxAuditText)
	e.Detail = CleanText(e.Detail, MaxAuditDetail)
	for i := range e.Objects {
		e.Objects[i].ID = CleanText(e.Objects[i].ID, MaxAuditText)
	}
}
