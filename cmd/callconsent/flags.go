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
	return fmt.Errorf("want table or json")
}

// addOutputFlag registers --output with the default "table".
func addOutputFlag(fs *pflag.FlagSet, o *outputFormat) {
	*o = outputTable
	fs.VarP(o, "output", "o", "output format: table or json")
}

// timeFlag is a point in time given as RFC 3339 (2026-01-02T15:04:05Z, any offset) or as a
// date (2026-01-02, meaning midnight UTC). Dates are UTC because stored times are UTC and an
// operator's result must not depend on the host's time zone.
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

// parseTime parses RFC 3339 or YYYY-MM-DD (midnight UTC) and returns the time in UTC.
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, time.UTC); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-01-02T15:04:05Z) or a date (2026-01-02)", v)
}
