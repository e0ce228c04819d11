package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/callconsent/callconsent/consent"
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
	fs.Var(&o.AsOf, "as-of", "with --dry-run: decide as if it were this time (RFC 3339 or YYYY-MM-DD, UTC)")
	fs.BoolVar(&o.Force, "force", false, "override the clock guards and max-delete-share (an operator's decision)")
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
audits. Guards refuse to delete, with an error, when the recordings folder is missing, the
clock went backwards or jumped, or a sweep would delete more than max-delete-share of all
recordings (--force overrides the last two).

` + exitCodesHelp,
		Example: `  callconsent sweep --dry-run
  callconsent sweep --dry-run --as-of 2027-03-01 --output json
  callconsent sweep --orphans`,
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
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, st)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sw := newSweeper(cfg, st.DB, logger)
	// The sweep finishes committed deletions too, and counts them in its report.
	if err := sw.OpenFolder(ctx); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	defer closeInto(&err, sw)
	stop := showProgress(logs, sw)
	rep, err := sw.Sweep(ctx, retention.Options{DryRun: opts.DryRun, Force: opts.Force, OrphanScan: opts.Orphans, AsOf: opts.AsOf.t})
	stop()
	if opts.Output == outputJSON {
		if werr := writeJSON(out, rep); werr != nil {
			return werr
		}
	} else {
		writeSweepText(out, rep)
	}
	return err
}

// showProgress prints a live count of deleted files on a terminal, for sweeps of many files.
func showProgress(w io.Writer, sw *retention.Sweeper) (stop func()) {
	f, ok := w.(*os.File)
	if !ok {
		return func() {}
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(f, "\r\033[K")
				return
			case <-t.C:
				m := sw.Metrics()
				fmt.Fprintf(f, "\r\033[Ksweeping: %d files deleted, %d MB, %d errors, %s", m.Deleted.Load(), m.Bytes.Load()>>20, m.Errors.Load(), time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() { close(done); <-finished }
}

func writeSweepText(w io.Writer, r retention.Report) {
	verb := "deleted"
	if r.DryRun {
		verb = "would delete"
	}
	fmt.Fprintf(w, "sweep as of %s (%s)\n", r.AsOf.Format(time.RFC3339), r.Duration.Round(time.Millisecond))
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
	if r.NotGranted > 0 {
		fmt.Fprintf(w, "ALARM: %d audio file(s) of calls without a grant existed and were deleted\n", r.NotGranted)
	}
	if r.Skipped != "" {
		fmt.Fprintf(w, "guard: %s\n", r.Skipped)
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
