package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callconsent/callconsent/consent"
)

// writeJSON writes v as indented JSON and a newline. Scripts read this output, so its field
// names are a contract: change them only together with the README.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// callJSON is the JSON form of a call. It carries the caller pseudonym, never a number: the
// store holds none, and this type has no field that could.
type callJSON struct {
	UUID            string     `json:"uuid"`
	CallerPseudonym string     `json:"caller_pseudonym"`
	Language        string     `json:"language"`
	StartedAt       *time.Time `json:"started_at"`
	EndedAt         *time.Time `json:"ended_at,omitempty"`
	Decision        string     `json:"decision"`
	Proof           *proofJSON `json:"proof,omitempty"`
	WithdrawnAt     *time.Time `json:"withdrawn_at,omitempty"`
	// WithdrawalReason is the operator's reason (a ticket id), when consent was withdrawn.
	WithdrawalReason string         `json:"withdrawal_reason,omitempty"`
	Recording        *recordingJSON `json:"recording,omitempty"`
}

type proofJSON struct {
	DecidedAt     *time.Time `json:"decided_at"`
	Digit         string     `json:"digit"`
	Tries         int        `json:"tries"`
	NoticeVersion string     `json:"notice_version"`
	NoticeSHA256  string     `json:"notice_sha256"`
	Language      string     `json:"language"`
	// HeardMS is how much of the notice the caller had heard when the key came (0: not
	// recorded, for decisions taken before callconsent measured it).
	HeardMS int64 `json:"heard_ms"`
}

type recordingJSON struct {
	Path       string     `json:"path"`
	State      string     `json:"state"`
	StartedAt  *time.Time `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	DurationMS int64      `json:"duration_ms"`
	Bytes      int64      `json:"bytes"`
	// Unconfirmed marks a live state left by a daemon that has stopped since (calls list).
	Unconfirmed bool `json:"unconfirmed,omitempty"`
}

func newCallJSON(c *consent.Call) callJSON {
	v := callJSON{
		UUID:             c.UUID,
		CallerPseudonym:  c.CallerPseudonym,
		Language:         c.Language,
		StartedAt:        jsonTime(c.StartedAt),
		EndedAt:          jsonTime(c.EndedAt),
		Decision:         string(c.Decision),
		WithdrawnAt:      jsonTime(c.WithdrawnAt),
		WithdrawalReason: c.WithdrawalReason,
	}
	if p := c.Proof; p != nil {
		v.Proof = &proofJSON{DecidedAt: jsonTime(p.DecidedAt), Digit: p.Digit, Tries: p.Tries,
			NoticeVersion: p.NoticeVersion, NoticeSHA256: p.NoticeSHA256, Language: p.Language, HeardMS: p.HeardMS}
	}
	if r := c.Recording; r != nil {
		v.Recording = &recordingJSON{Path: r.Path, State: string(r.State), StartedAt: jsonTime(r.StartedAt),
			EndedAt: jsonTime(r.EndedAt), DurationMS: r.DurationMS, Bytes: r.Bytes}
	}
	return v
}

// jsonTime returns t in UTC, or nil for the zero time so that "not yet" is absent, not year 1.
func jsonTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// tableTime formats a time for tables: UTC to the second, "-" when unset.
func tableTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// cell returns s for a table cell: "-" when empty, and Go-quoted (\x1b, \n, \u202e) when it
// holds anything not printable, so a stored value cannot forge rows, shift columns (a tab) or
// send escapes to the terminal. JSON output keeps the value as stored.
func cell(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) || r == utf8.RuneError }) >= 0 {
		return strconv.QuoteToGraphic(s)
	}
	return dash(s)
}

// dash returns s, or "-" for an empty value, so table columns never collapse.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortPseudonym keeps 12 characters of a pseudonym: enough to tell callers apart in a table,
// short enough to keep it readable. The full value is in calls show and the JSON output.
func shortPseudonym(p string) string {
	if len(p) > 12 {
		return p[:12]
	}
	return dash(p)
}

// msDuration formats milliseconds as a duration rounded to the second ("1m23s").
func msDuration(ms int64) string {
	return (time.Duration(ms) * time.Millisecond).Round(time.Second).String()
}
