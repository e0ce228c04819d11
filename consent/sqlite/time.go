package sqlite

import (
	"database/sql"
	"fmt"
	"time"
)

// timeFormat is RFC 3339 in UTC with exactly nine fractional digits. The fixed width makes
// string order equal time order, which RFC3339Nano's trimmed fractions would break
// ("…05Z" sorts after "…05.5Z").
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// formatTime returns t as stored, or nil (SQL NULL) for the zero time.
func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

// parseTime reads a stored time; NULL gives the zero time. A malformed value is an error, not
// a zero time: a proof of consent with a silently lost timestamp is no proof.
func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("malformed stored time %q", s.String)
	}
	return t.UTC(), nil
}

// timeScanner collects parse errors of several columns so scan code stays linear.
type timeScanner struct{ err error }

func (ts *timeScanner) parse(s sql.NullString) time.Time {
	t, err := parseTime(s)
	if err != nil && ts.err == nil {
		ts.err = err
	}
	return t
}

// limitOffset returns a LIMIT/OFFSET clause; zero values add nothing.
func limitOffset(limit, offset int) string {
	switch {
	case limit > 0 && offset > 0:
		return fmt.Sprintf(` LIMIT %d OFFSET %d`, limit, offset)
	case limit > 0:
		return fmt.Sprintf(` LIMIT %d`, limit)
	case offset > 0:
		return fmt.Sprintf(` LIMIT -1 OFFSET %d`, offset)
	}
	return ""
}
