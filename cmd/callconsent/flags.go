package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// outputFormat is the --output flag: "table" for people, "json" for scripts. A bad value is a
// flag error, so it fails before any database is opened.
type outputFormat string

const (
	outputTable outputFormat = "table"
	outputJSON  outputFormat = "json"
)

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "table|json" }

// Set implements pflag.Value.
func (o *outputFormat) Set(v string) error {
	switch outputFormat(v) {
	case outputTable, outputJSON:
		*o = outputFormat(v)
		return nil
	}
	return fmt.Errorf("is not an output format: use table or json")
}

// addOutputFlag registers --output with the default "table".
func addOutputFlag(fs *pflag.FlagSet, o *outputFormat) {
	*o = outputTable
	fs.VarP(o, "output", "o", "output format: table or json")
}

// timeFlag is a point in time given as RFC 3339 (2026-01-02T15:04:05Z, any offset), as the
// tables print it (2026-01-02 15:04:05, UTC) or as a date (2026-01-02, meaning midnight UTC).
// Times without an offset are UTC because stored times are UTC and an operator's result must
// not depend on the host's time zone.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}
func (f *timeFlag) Type() string { return "time" }

// Set implements pflag.Value.
func (f *timeFlag) Set(v string) error {
	t, err := parseTime(v)
	if err != nil {
		return err
	}
	f.t = t
	return nil
}

// earliestTime is the earliest time a time flag takes. No call is older, and the zero time
// (0001-01-01) must not pass: the commands read it as "not given", e.g. sweep --as-of as now.
var earliestTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// timeLayouts are the forms a time flag takes besides RFC 3339, all read as UTC: the tables'
// own (calls list prints "2026-11-30 00:19:00"), with or without seconds, and a bare date.
var timeLayouts = []string{time.DateTime, "2006-01-02 15:04", "2006-01-02T15:04:05", time.DateOnly}

// parseTime parses RFC 3339, a table's "YYYY-MM-DD HH:MM[:SS]" (UTC) or YYYY-MM-DD (midnight
// UTC) and returns the time in UTC. Its errors do not repeat the value: the flag error names it.
func parseTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	for _, layout := range timeLayouts {
		if err == nil {
			break
		}
		t, err = time.ParseInLocation(layout, v, time.UTC)
	}
	switch {
	case err != nil:
		return time.Time{}, fmt.Errorf("is not a time: use RFC 3339 (2026-01-02T15:04:05Z), a time as the tables show it (\"2026-01-02 15:04:05\", UTC) or a date (2026-01-02)")
	case t.Before(earliestTime):
		return time.Time{}, fmt.Errorf("is before 1970: no call is that old; check the year")
	}
	return t.UTC(), nil
}
