package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/callconsent/callconsent/access"
	asqlite "github.com/callconsent/callconsent/access/sqlite"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/export"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// callsShowOptions are the options of calls show.
type callsShowOptions struct {
	Reason string
	Output outputFormat
}

// AddFlags registers --output and --reason.
func (o *callsShowOptions) AddFlags(fs *pflag.FlagSet) {
	addOutputFlag(fs, &o.Output)
	fs.StringVar(&o.Reason, "reason", "", "why you look (optional for the host operator; goes into the audit log)")
}

func newCallsShowCommand(g *globalOptions) *cobra.Command {
	var opts callsShowOptions
	cmd := &cobra.Command{
		Use:   "show UUID",
		Short: "Show everything stored about one call: decision, proof of consent, recording",
		Long: `Show everything stored about one call: the consent decision with its full proof
(time, digit, tries, notice version, language and the SHA-256 of the notice audio the
caller heard), the withdrawal if any, the recording with its state, and the training
exports made from it (export id, who, when: from the audit log, the only place that links
an export to its call), so that after a withdrawal their copies can be removed.

An argument that is not a FreeSWITCH channel UUID exits with 2, an unknown UUID with 3.
The database is opened read-only: nothing is created or changed.

` + exitCodesHelp,
		Example: `  callconsent calls show 6f1c2a4e-9d3b-4c7a-8e21-0b5d7f3a9c11
  callconsent calls show 6f1c2a4e-9d3b-4c7a-8e21-0b5d7f3a9c11 --output json`,
		Args: exactArgs("UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			return runCallsShow(cmd.Context(), cfg, opts, args[0], cmd.OutOrStdout())
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// runCallsShow prints one call. The database is opened read-only, and a missing one has no
// calls: nothing is ever created.
func runCallsShow(ctx context.Context, cfg *Config, opts callsShowOptions, arg string, out io.Writer) (err error) {
	uuid, ok := consent.CanonicalUUID(arg)
	if !ok {
		return invalidf("%q is not a call UUID (8-4-4-4-12 hex digits)", arg)
	}
	db, err := openReadOnly(ctx, cfg)
	if consent.ErrorCode(err) == consent.ENOTFOUND {
		return consent.Errorf(consent.ENOTFOUND, "call %s not found: there is no database at %s yet (check --db or --data-dir)", uuid, cfg.DB)
	} else if err != nil {
		return err
	}
	defer closeInto(&err, db)
	c, err := db.FindCall(ctx, uuid)
	if err != nil {
		return err
	}
	exports, err := export.TrainingExports(ctx, asqlite.New(db), uuid)
	if err != nil {
		return fmt.Errorf("read training exports: %w", err)
	}
	if err := hostAudit(ctx, cfg, access.Request{Action: access.ActionHostRead, Reason: opts.Reason, Detail: "calls show"}, callObjects(c.UUID), ""); err != nil {
		return err
	}
	if opts.Output == outputJSON {
		return writeJSON(out, struct {
			callJSON
			TrainingExports []export.TrainingExport `json:"training_exports"`
		}{newCallJSON(c), exports})
	}
	if err := writeCallText(out, c); err != nil {
		return err
	}
	return writeTrainingExports(out, c, exports)
}

// writeCallText prints a call as aligned "field: value" lines, grouped like the JSON.
func writeCallText(out io.Writer, c *consent.Call) error {
	tw := tabwriter.NewWriter(out, 0, 4, 1, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	line("uuid", c.UUID)
	line("caller pseudonym", dash(c.CallerPseudonym))
	line("language", dash(c.Language))
	line("started (UTC)", tableTime(c.StartedAt))
	line("ended (UTC)", tableTime(c.EndedAt))
	line("decision", string(c.Decision))
	if p := c.Proof; p != nil {
		line("proof: decided (UTC)", tableTime(p.DecidedAt))
		line("proof: digit", dash(p.Digit))
		line("proof: tries", fmt.Sprint(p.Tries))
		line("proof: notice heard", heardText(p.HeardMS))
		line("proof: notice version", dash(p.NoticeVersion))
		line("proof: notice sha256", dash(p.NoticeSHA256))
		line("proof: language", dash(p.Language))
	} else {
		line("proof", "-")
	}
	line("withdrawn (UTC)", tableTime(c.WithdrawnAt))
	if c.Withdrawn() {
		line("withdrawal reason", dash(c.WithdrawalReason))
	}
	if r := c.Recording; r != nil {
		line("recording: path", r.Path)
		line("recording: state", string(r.State))
		line("recording: started (UTC)", tableTime(r.StartedAt))
		line("recording: ended (UTC)", tableTime(r.EndedAt))
		line("recording: duration", msDuration(r.DurationMS))
		line("recording: bytes", fmt.Sprint(r.Bytes))
	} else {
		line("recording", "none")
	}
	return tw.Flush()
}

// heardText says how much of the notice the caller had heard when the key came; 0 is a
// decision taken before callconsent measured it.
func heardText(ms int64) string {
	if ms <= 0 {
		return "-"
	}
	return (time.Duration(ms) * time.Millisecond).String() + " (by FreeSWITCH's clock, before the key)"
}

// writeTrainingExports lists the training copies made from the call; after a withdrawal they
// must be removed wherever they went, so the text says so.
func writeTrainingExports(out io.Writer, c *consent.Call, exports []export.TrainingExport) error {
	if len(exports) == 0 {
		_, err := fmt.Fprintln(out, "training exports:  none")
		return err
	}
	fmt.Fprintf(out, "training exports:  %d\n", len(exports))
	for _, e := range exports {
		fmt.Fprintf(out, "  %s  by %s at %s\n", e.ExportID, e.By, tableTime(e.At))
	}
	if c.Withdrawn() {
		_, err := fmt.Fprintln(out, "consent was withdrawn: have every copy above removed (its export id is in its .json)")
		return err
	}
	return nil
}
