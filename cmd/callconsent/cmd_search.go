package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/spf13/cobra"
)

// recordOptions are the flags of the line manager's commands on recordings.
type recordOptions struct {
	identityOptions
	Purpose      string
	Reason       string
	Since, Until timeFlag
	Limit        int
	Out          string
	Output       outputFormat
}

func (o *recordOptions) addAccessFlags(cmd *cobra.Command) {
	o.identityOptions.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.Purpose, "purpose", "", "the approved `purpose` of this access, one your grant names (required)")
	cmd.Flags().StringVar(&o.Reason, "reason", "", "why you need it: at least 3 words and 15 characters (required)")
	addOutputFlag(cmd.Flags(), &o.Output)
}

// maxSearch bounds one search: a line manager looks for calls, not for the archive.
const maxSearch = 1000

func newSearchCommand(g *globalOptions) *cobra.Command {
	var opts recordOptions
	cmd := &cobra.Command{
		Use:   "search --purpose P --reason TEXT [--since --until --limit]",
		Short: "Find recorded calls (line manager with a grant)",
		Long: `Find the calls with a complete recording that may be listened to (consent granted,
not withdrawn), newest first: UUID, start (UTC), language, recording length. No caller
data is shown. A line manager only, --as NAME, with an unexpired, unrevoked grant for
--purpose and a --reason (at least 3 words and 15 characters): a search without a
reason is refused (R-SEC-3). Every search, refused or not, is in the audit log with its
filters and how many calls it returned. At most --limit calls (default 100, at most 1000).

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent search --as mats --purpose quality-assurance \
      --reason "complaint 4711 about agent tone on Monday" --since 2026-11-23 --until 2026-11-24`,
		Args: cobra.NoArgs,
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, _ []string, out io.Writer) error {
			return runSearch(ctx, cfg, opts, out)
		}),
	}
	opts.addAccessFlags(cmd)
	cmd.Flags().Var(&opts.Since, "since", "only calls started at or after this time (RFC 3339 or YYYY-MM-DD, UTC)")
	cmd.Flags().Var(&opts.Until, "until", "only calls started before this time (exclusive)")
	cmd.Flags().IntVar(&opts.Limit, "limit", 100, "at most this many calls (1..1000)")
	return cmd
}

// searchJSON is one call found by search: no caller pseudonym, no path.
type searchJSON struct {
	UUID       string    `json:"uuid"`
	StartedAt  time.Time `json:"started_at"`
	Language   string    `json:"language"`
	DurationMS int64     `json:"duration_ms"`
}

func runSearch(ctx context.Context, cfg *Config, opts recordOptions, out io.Writer) (err error) {
	if opts.Limit < 1 || opts.Limit > maxSearch {
		return invalidf("search: --limit %d: must be 1 to %d", opts.Limit, maxSearch)
	}
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	actor, err := opts.login(ctx, env.svc, "search")
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("filters: since=%s until=%s limit=%d", dash(opts.Since.String()), dash(opts.Until.String()), opts.Limit)
	acc, err := env.svc.Authorize(ctx, actor, access.Request{Action: access.ActionSearch, Purpose: opts.Purpose, Reason: opts.Reason, Detail: detail})
	if err != nil {
		return err
	}
	found, err := listenable(ctx, env, opts)
	if err != nil {
		return joinFail(ctx, acc, err)
	}
	objs := make([]access.Object, 0, len(found))
	for _, c := range found {
		objs = append(objs, access.Object{Kind: access.ObjectCall, ID: c.UUID})
	}
	// Audited before anything is shown: no record, no result.
	if err := acc.Done(ctx, objs, fmt.Sprintf("returned %d calls", len(found))); err != nil {
		return err
	}
	if opts.Output == outputJSON {
		return writeJSON(out, found)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UUID\tSTARTED (UTC)\tLANGUAGE\tDURATION")
	for _, c := range found {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.UUID, tableTime(c.StartedAt), c.Language, msDuration(c.DurationMS))
	}
	return tw.Flush()
}

// listenable returns the calls in opts' range whose recording may be heard.
func listenable(ctx context.Context, env *accessEnv, opts recordOptions) ([]searchJSON, error) {
	out := []searchJSON{}
	f := consent.CallFilter{Decision: consent.DecisionGranted, Since: opts.Since.t, Until: opts.Until.t, Limit: maxSearch * 4}
	calls, err := env.st.DB.FindCalls(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, c := range calls {
		if len(out) >= opts.Limit {
			break
		}
		if playable(c) {
			out = append(out, searchJSON{UUID: c.UUID, StartedAt: c.StartedAt, Language: c.Language, DurationMS: c.Recording.DurationMS})
		}
	}
	return out, nil
}

// playable reports whether c's recording may be heard: consent granted and not withdrawn, the
// recording complete.
func playable(c *consent.Call) bool {
	return c.Decision == consent.DecisionGranted && !c.Withdrawn() && c.Recording != nil && c.Recording.State == consent.RecordingComplete
}

// joinFail records cause on acc and returns it (with the audit's error, if any).
func joinFail(ctx context.Context, acc *access.Access, cause error) error {
	if err := acc.Fail(ctx, cause); err != nil {
		return fmt.Errorf("%w (and the audit entry failed: %v)", cause, err)
	}
	return cause
}
