package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/retention"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// sweepOptions are the flags of `callconsent sweep`.
type sweepOptions struct {
	DryRun  bool
	AsOf    timeFlag
	Force   bool
	Orphans bool
	Output  outputFormat
}

// AddFlags registers sweep's flags.
func (o *sweepOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.DryRun, "dry-run", false, "report what a sweep would delete; delete nothing")
	fs.Var(&o.AsOf, "as-of", "with --dry-run: decide as if it were this time (RFC 3339, \"YYYY-MM-DD HH:MM:SS\" as the tables show it, or YYYY-MM-DD; UTC unless an offset is given)")
	fs.BoolVar(&o.Force, "force", false, "override the clock guards and max-delete-share (an operator's decision; overriding the share guard stores the approval for later sweeps under the same settings)")
	fs.BoolVar(&o.Orphans, "orphans", false, "also scan the recent folders for files without a row now (otherwise once a day)")
	addOutputFlag(fs, &o.Output)
}

func newSweepCommand(g *globalOptions) *cobra.Command {
	var opts sweepOptions
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Run the retention sweep once, now, or report what it would delete",
		Long: `Sweep deletes what policy §7 says must go (R-RETAIN-1..4), each with a tombstone naming
the reason: recordings older than retention (counted from the recording's start time in
the database, never from file times), withdrawn ones, audio of calls without a grant
(must never exist: reported as an alarm), files without a database row older than
orphan-grace, and partial files of failed recordings. Deletion is crash-safe: intent
committed, file unlinked inside recordings-dir (symlinks never followed), folder synced,
tombstone committed. Afterwards expired call metadata is purged and the WAL truncated.

The daemon runs the same sweep on sweep-schedule; this command is for operators and
audits. A file that cannot be deleted (a folder not writable, a symlink) blocks only
itself: it stays marked, every sweep retries it, and it is named in the output, in the
log and in status as an alarm (exit 4). A missing recordings folder fails the sweep.

Guards hold new deletions back (committed ones still go ahead), with exit 4 and an alarm
in status, when the clock is before the last sweep or jumped ahead, or when a sweep would
delete more than max-delete-share of all recordings. --force overrides them; when it
overrides the share guard, the approval is stored (time, retention, max-delete-share,
counts) and later sweeps under the same settings proceed. A stored last-sweep time in
the future is discarded, with an alarm, once the clock has stayed behind it for one
sweep-schedule interval.

--dry-run opens the database read-only and changes no file and no row (a missing database
is an error, exit 3). Under a guard it reports what is due and that the guard would hold
it back (exit 4).

` + exitCodesHelp,
		Example: `  callconsent sweep --dry-run
  callconsent sweep --dry-run --as-of 2027-03-01 --output json
  callconsent sweep --orphans
  callconsent --retention 720h sweep --force   # after shortening retention: approve the backlog`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !opts.AsOf.t.IsZero() && !opts.DryRun {
				return invalidf("sweep: --as-of needs --dry-run: real deletions follow the real clock")
			}
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			return runSweep(cmd.Context(), cfg, opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

func runSweep(ctx context.Context, cfg *Config, opts sweepOptions, out, logs io.Writer) (err error) {
	var bar *progressBar
	if !opts.DryRun {
		bar = newProgressBar(logs, -1, "sweeping") // -1: its length is known once the sweep planned
	}
	logger := slog.New(slog.NewTextHandler(&aboveBar{w: logs, bar: bar}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var sw *retention.Sweeper
	if opts.DryRun {
		var db *sqlite.DB
		if sw, db, err = openDryRun(ctx, cfg, logger); err != nil {
			return err
		}
		defer closeInto(&err, db)
	} else {
		var st *storage
		if st, err = openCommandStore(ctx, cfg); err != nil {
			return err
		}
		defer closeInto(&err, st)
		if opts.Force {
			// An operator's override of the guards is audited: who, and how it ended.
			acc, aerr := authorizeForce(ctx, cfg, st)
			if aerr != nil {
				return aerr
			}
			defer func() { err = forcedSweepDone(ctx, acc, err) }()
		}
		if sw, err = newSweeper(cfg, st.DB, logger); err != nil {
			return err
		}
		// The sweep finishes committed deletions too, and counts them in its report.
		if err = sw.OpenFolder(ctx); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
	}
	defer closeInto(&err, sw)
	ro := retention.Options{DryRun: opts.DryRun, Force: opts.Force, OrphanScan: opts.Orphans, AsOf: opts.AsOf.t}
	var stop func()
	ro.Planned, stop = showProgress(bar, sw)
	rep, err := sw.Sweep(ctx, ro)
	stop()
	hint := guardHint(err)
	if opts.Output == outputJSON {
		if werr := writeJSON(out, rep); werr != nil {
			return werr
		}
	} else {
		writeSweepText(out, rep, hint)
	}
	if hint != "" && consent.ErrorCode(err) == consent.ECONFLICT {
		return consent.Errorf(consent.ECONFLICT, "%s; %s", consent.ErrorMessage(err), hint)
	}
	return err
}

// openDryRun opens what a dry run reads, read-only: the database (which must exist) and the
// recordings folder; the key is checked, not loaded. Nothing is recovered, created or written.
func openDryRun(ctx context.Context, cfg *Config, logger *slog.Logger) (*retention.Sweeper, *sqlite.DB, error) {
	db, err := openReadOnly(ctx, cfg)
	if consent.ErrorCode(err) == consent.ENOTFOUND {
		return nil, nil, consent.Errorf(consent.ENOTFOUND, "sweep --dry-run: no database at %s: nothing to report (a dry run creates nothing; check --db or --data-dir)", cfg.DB)
	} else if err != nil {
		return nil, nil, err
	}
	sw, err := newSweeper(cfg, db, logger)
	if err == nil {
		err = sw.OpenReadOnly(ctx)
	}
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("retention: %w", err)
	}
	return sw, db, nil
}

// guardHint says what an operator can do about the guard that held a sweep back, if one did.
func guardHint(err error) string {
	switch {
	case errors.Is(err, retention.ErrTooMany):
		return "if these deletions are right (e.g. retention was shortened), approve them with `callconsent sweep --force`: later sweeps under the same settings then proceed"
	case errors.Is(err, retention.ErrClockBackwards), errors.Is(err, retention.ErrClockJump):
		return "check the system clock; if it is right, `callconsent sweep --force` sweeps by it now"
	}
	return ""
}

// showProgress draws the sweep's deletions on bar (nil when stderr is no terminal: nothing is
// drawn). planned, the sweep's Planned hook, sets the bar's length once the sweep knows what is
// due; until stop, the bar follows the files deleted or failed since it started.
func showProgress(bar *progressBar, sw *retention.Sweeper) (planned func(int), stop func()) {
	if bar == nil {
		return nil, func() {}
	}
	m := sw.Metrics()
	base := m.Deleted.Load() + m.Errors.Load()
	done := make(chan struct{})
	finished := make(chan struct{})
	planned = func(n int) {
		bar.ChangeMax(n)
		bar.Describe(fmt.Sprintf("deleting %d file(s)", n))
		bar.Show()
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				bar.Finish()
				return
			case <-t.C:
				bar.Set(int(m.Deleted.Load() + m.Errors.Load() - base))
			}
		}
	}()
	return planned, func() { close(done); <-finished }
}

func writeSweepText(w io.Writer, r retention.Report, hint string) {
	verb, mode := "deleted", ""
	if r.DryRun {
		verb, mode = "would delete", ", dry run: nothing changed"
	}
	if r.Forced {
		mode += ", forced"
	}
	fmt.Fprintf(w, "sweep as of %s (%s%s)\n", r.AsOf.Format(time.RFC3339), r.Duration.Round(time.Millisecond), mode)
	reasons := make([]consent.DeletionReason, 0, len(r.Deleted))
	for k := range r.Deleted {
		reasons = append(reasons, k)
	}
	slices.Sort(reasons)
	t := r.Total()
	fmt.Fprintf(w, "%s: %d file(s), %d bytes\n", verb, t.Files, t.Bytes)
	for _, k := range reasons {
		v := r.Deleted[k]
		fmt.Fprintf(w, "  %-12s %8d files %14d bytes\n", k, v.Files, v.Bytes)
	}
	if !r.DryRun {
		fmt.Fprintf(w, "purged call rows: %d, empty folders removed: %d\n", r.Purged, r.FoldersRemoved)
	}
	if r.NotGranted > 0 && r.DryRun {
		fmt.Fprintf(w, "ALARM: %d audio file(s) of calls without a grant exist and would be deleted\n", r.NotGranted)
	} else if r.NotGranted > 0 {
		fmt.Fprintf(w, "ALARM: %d audio file(s) of calls without a grant existed and were deleted\n", r.NotGranted)
	}
	if r.Skipped != "" {
		fmt.Fprintf(w, "GUARD: %s\n", r.Skipped)
		if r.DryRun {
			fmt.Fprintf(w, "  a sweep now would hold back %d of the file(s) above and delete only committed ones\n", r.HeldBack)
		} else {
			fmt.Fprintf(w, "  held back %d file(s); committed deletions (withdrawals) went ahead\n", r.HeldBack)
		}
		if hint != "" {
			fmt.Fprintf(w, "  %s\n", hint)
		}
	}
	if r.Approval != "" {
		fmt.Fprintf(w, "approval: %s\n", r.Approval)
	}
	if r.ClockReset != "" {
		fmt.Fprintf(w, "ALARM: %s\n", r.ClockReset)
	}
	if len(r.Stuck) > 0 {
		fmt.Fprintf(w, "ALARM: %d file(s) could not be deleted; they stay marked and every sweep retries them:\n", len(r.Stuck))
		for _, st := range r.Stuck {
			fmt.Fprintf(w, "  %s (%s): %s\n", st.Path, st.Reason, st.Error)
		}
	}
	if other := r.Errors - len(r.Stuck); other > 0 {
		fmt.Fprintf(w, "errors: %d (see the log)\n", other)
	}
}
