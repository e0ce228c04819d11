package retention

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Report says what one sweep did, for the log, the CLI's text or JSON output and the exit
// code. In a dry run, Deleted counts what would have been deleted and Planned lists it.
type Report struct {
	AsOf           time.Time                        `json:"as_of"`
	Duration       time.Duration                    `json:"duration_ns"`
	DryRun         bool                             `json:"dry_run,omitempty"`
	Forced         bool                             `json:"forced,omitempty"`
	OrphanScan     bool                             `json:"orphan_scan,omitempty"`
	Skipped        string                           `json:"skipped,omitempty"`     // the guard that held back new deletions
	HeldBack       int                              `json:"held_back,omitempty"`   // new deletions it held back (would hold back, in a dry run)
	Approval       string                           `json:"approval,omitempty"`    // a stored --force approval that let the share guard pass, or the one stored now
	ClockReset     string                           `json:"clock_reset,omitempty"` // a stored last-sweep time in the future was discarded (an alarm)
	Deleted        map[consent.DeletionReason]Tally `json:"deleted"`
	NotGranted     int                              `json:"not_granted"`     // audio of calls without a grant: must be 0
	Alarms         int                              `json:"alarms"`          // not-granted and reappeared files
	Stuck          []Stuck                          `json:"stuck,omitempty"` // files that could not be deleted: alarms, retried every sweep
	Errors         int                              `json:"errors"`          // files not deleted, folders not read
	Purged         int64                            `json:"purged_calls"`
	FoldersRemoved int                              `json:"folders_removed"`
	Planned        []Action                         `json:"planned,omitempty"`
	Error          string                           `json:"error,omitempty"`

	started time.Time // wall time for Duration; AsOf may be fake
}

// Tally counts files and their bytes.
type Tally struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

func newReport(asOf time.Time, o Options) Report {
	return Report{AsOf: asOf, DryRun: o.DryRun, Forced: o.Force, Deleted: map[consent.DeletionReason]Tally{}, started: time.Now()}
}

// add counts one deleted (or, in a dry run, due) file.
func (r *Report) add(a Action) {
	t := r.Deleted[a.Reason]
	t.Files++
	t.Bytes += a.Bytes
	r.Deleted[a.Reason] = t
	if a.Alarm != "" {
		r.Alarms++
	}
	if a.Reason == consent.ReasonNotGranted {
		r.NotGranted++
	}
}

// Total sums Deleted over all reasons.
func (r Report) Total() Tally {
	var t Tally
	for _, v := range r.Deleted {
		t.Files += v.Files
		t.Bytes += v.Bytes
	}
	return t
}

// logReport writes one line per sweep: info when all went well, error when anything failed or
// a guard fired. Only counts: no path, no call.
func (s *Sweeper) logReport(r Report, err error) {
	attrs := []any{"dry_run", r.DryRun, "files", r.Total().Files, "bytes", r.Total().Bytes, "held_back", r.HeldBack,
		"not_granted", r.NotGranted, "alarms", r.Alarms, "stuck", len(r.Stuck), "errors", r.Errors, "purged_calls", r.Purged,
		"folders_removed", r.FoldersRemoved, "orphan_scan", r.OrphanScan, "duration", r.Duration.Round(time.Millisecond)}
	reasons := make([]string, 0, len(r.Deleted))
	for k := range r.Deleted {
		reasons = append(reasons, string(k))
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		attrs = append(attrs, "deleted_"+k, r.Deleted[consent.DeletionReason(k)].Files)
	}
	switch {
	case err != nil && r.DryRun:
		s.log.Info("dry run: a sweep now would not do all that is due", append(attrs, "err", r.Error)...)
		return
	case err != nil && r.Skipped != "" && len(r.Stuck) == 0 && r.Errors == 0:
		s.log.Error("sweep held back by a guard", append(attrs, "err", r.Error)...)
		return
	case err != nil:
		s.log.Error("sweep incomplete", append(attrs, "err", r.Error)...)
		return
	}
	level := slog.LevelInfo
	if r.Total().Files == 0 {
		level = slog.LevelDebug // every 15 minutes: quiet unless something happened
	}
	s.log.Log(context.Background(), level, "sweep done", attrs...)
}
