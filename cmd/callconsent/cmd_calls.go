package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newCallsCommand(g *globalOptions) *cobra.Command {
	return newGroupCommand("calls", "List and inspect calls and their consent decisions",
		newCallsListCommand(g), newCallsShowCommand(g))
}

// callsListOptions are the filters of calls list.
type callsListOptions struct {
	Since, Until timeFlag
	Decision     string
	Limit        int
	Reason       string
	Output       outputFormat
}

// AddFlags registers the filters.
func (o *callsListOptions) AddFlags(fs *pflag.FlagSet) {
	fs.Var(&o.Since, "since", "only calls started at or after this time (RFC 3339, \"YYYY-MM-DD HH:MM:SS\" as the tables show it, or YYYY-MM-DD; UTC unless an offset is given)")
	fs.Var(&o.Until, "until", "only calls started before this time (exclusive; same forms as --since)")
	fs.StringVar(&o.Decision, "decision", "", fmt.Sprintf("only calls with this decision: one of %v", consent.Decisions))
	fs.IntVar(&o.Limit, "limit", 100, "show at most this many calls, newest first (0 = all)")
	fs.StringVar(&o.Reason, "reason", "", "why you look (optional for the host operator; goes into the audit log)")
	addOutputFlag(fs, &o.Output)
}

func newCallsListCommand(g *globalOptions) *cobra.Command {
	var opts callsListOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List calls with their consent decision, newest first",
		Long: `List calls with their consent decision and recording state, newest first.

The table shows the caller only as the first 12 characters of the pseudonym; no
caller number is stored anywhere. DURATION is the length of the recording.
A recording shown "pending (unconfirmed)" or "recording (unconfirmed)" was left in that
state by a daemon that has stopped since (a crash, a restart), or no daemon runs now:
whether FreeSWITCH still records it is not known until a running daemon's reconcile
finalises it, which needs FreeSWITCH to answer. JSON marks it "unconfirmed": true.
The JSON output is an array (exactly "[]" when nothing matches) for scripts.

The database is opened read-only: nothing is created or changed, and a missing database
is an empty list (said on stderr). The whole-file integrity check is the daemon's (at
start and daily), not each query's.

` + exitCodesHelp,
		Example: `  callconsent calls list --since 2026-01-01 --decision granted
  callconsent calls list --since "2026-11-30 00:19:00" --until 2026-12-01
  callconsent calls list --until 2026-02-01T12:00:00+01:00 --limit 0 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			return runCallsList(cmd.Context(), cfg, opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// runCallsList prints the calls that match opts. When --limit cut the list short it says so
// on logs (stderr), so that a table or a JSON array never passes for all there is.
func runCallsList(ctx context.Context, cfg *Config, opts callsListOptions, out, logs io.Writer) (err error) {
	f := consent.CallFilter{Since: opts.Since.t, Until: opts.Until.t, Limit: opts.Limit}
	if opts.Decision != "" {
		if f.Decision, err = consent.ParseDecision(opts.Decision); err != nil {
			return err
		}
	}
	if opts.Limit < 0 {
		return invalidf("--limit %d: must be 0 (all) or more", opts.Limit)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return invalidf("--since %s is not before --until %s", opts.Since.String(), opts.Until.String())
	}

	db, err := openReadOnly(ctx, cfg)
	if consent.ErrorCode(err) == consent.ENOTFOUND {
		// Nothing was ever stored here: no calls. Said on logs, so that a mistyped --db does
		// not pass for an empty archive, while the output stays what scripts expect.
		fmt.Fprintf(logs, "callconsent: no database at %s yet, so no calls (check --db or --data-dir if there should be)\n", cfg.DB)
		return writeCalls(out, opts.Output, nil, func(*consent.Call) bool { return false })
	} else if err != nil {
		return err
	}
	defer closeInto(&err, db)
	if f.Limit > 0 {
		f.Limit++ // one more than shown tells whether there are more
	}
	calls, err := db.FindCalls(ctx, f)
	if err != nil {
		return fmt.Errorf("find calls: %w", err)
	}
	if opts.Limit > 0 && len(calls) > opts.Limit {
		calls = calls[:opts.Limit]
		defer fmt.Fprintf(logs, "callconsent: showing the newest %d calls; more match: --limit 0 shows all, --since and --until narrow the range\n", opts.Limit)
	}
	started, err := confirmedSince(ctx, cfg, db)
	if err != nil {
		return err
	}
	if err := hostAudit(ctx, cfg, access.Request{Action: access.ActionHostRead, Reason: opts.Reason, Detail: "calls list " + callsFilterText(opts)},
		callObjects(callUUIDs(calls)...), fmt.Sprintf("returned %d calls", len(calls))); err != nil {
		return err
	}
	return writeCalls(out, opts.Output, calls, func(c *consent.Call) bool { return unconfirmedRecording(c, started) })
}

// writeCalls prints calls as a table or as a JSON array ("[]" when there are none).
func writeCalls(out io.Writer, format outputFormat, calls []*consent.Call, unconfirmed func(*consent.Call) bool) error {
	if format == outputJSON {
		list := make([]callJSON, 0, len(calls)) // non-nil: an empty result is [] not null
		for _, c := range calls {
			v := newCallJSON(c)
			if unconfirmed(c) {
				v.Recording.Unconfirmed = true
			}
			list = append(list, v)
		}
		return writeJSON(out, list)
	}
	return writeCallsTable(out, calls, unconfirmed)
}

// confirmedSince is when the daemon that follows live recordings started: a live state older
// than that was left by a daemon that has stopped. With no daemon on the control socket, no
// live state is followed by anyone, and the time is now.
func confirmedSince(ctx context.Context, cfg *Config, db *sqlite.DB) (time.Time, error) {
	c, err := net.DialTimeout("unix", cfg.ControlSocket, time.Second)
	if err != nil {
		return time.Now(), nil
	}
	c.Close()
	return db.DaemonStartedAt(ctx)
}

// unconfirmedRecording reports whether c's recording is in a live state (pending, recording)
// that no running daemon follows: it started before since (confirmedSince). Only reconcile,
// once FreeSWITCH answers, can say how it ended.
func unconfirmedRecording(c *consent.Call, since time.Time) bool {
	r := c.Recording
	return r != nil && r.State.Live() && r.StartedAt.Before(since)
}

func writeCallsTable(out io.Writer, calls []*consent.Call, unconfirmed func(*consent.Call) bool) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UUID\tSTARTED (UTC)\tCALLER\tDECISION\tTRIES\tDIGIT\tNOTICE\tRECORDING\tDURATION")
	for _, c := range calls {
		tries, digit, notice := "-", "-", "-"
		if p := c.Proof; p != nil {
			tries, digit, notice = strconv.Itoa(p.Tries), dash(p.Digit), dash(p.Language+"/"+p.NoticeVersion)
		}
		decision := string(c.Decision)
		if c.Withdrawn() {
			decision += " (withdrawn)"
		}
		rec, dur := "-", "-"
		if r := c.Recording; r != nil {
			rec = string(r.State)
			if unconfirmed(c) {
				rec += " (unconfirmed)"
			}
			if r.DurationMS > 0 {
				dur = msDuration(r.DurationMS)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.UUID, tableTime(c.StartedAt),
			shortPseudonym(c.CallerPseudonym), decision, tries, digit, notice, rec, dur)
	}
	return tw.Flush()
}

// callUUIDs lists the calls' UUIDs.
func callUUIDs(calls []*consent.Call) []string {
	out := make([]string, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.UUID)
	}
	return out
}

// callsFilterText is calls list's filters as the audit log keeps them.
func callsFilterText(o callsListOptions) string {
	return fmt.Sprintf("since=%s until=%s decision=%s limit=%d", dash(o.Since.String()), dash(o.Until.String()), dash(o.Decision), o.Limit)
}
