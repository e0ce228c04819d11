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
	"github.com/spf13/cobra"
)

func newPurposesCommand(g *globalOptions) *cobra.Command {
	return newGroupCommand("purposes", "Approve, retire and list the purposes of recordings (R-PURPOSE-2)",
		newPurposesAddCommand(g), newPurposesRetireCommand(g), newPurposesListCommand(g))
}

// purposesOptions are the flags of the purposes commands.
type purposesOptions struct {
	usersOptions
	Description string
}

func newPurposesAddCommand(g *globalOptions) *cobra.Command {
	var opts purposesOptions
	cmd := &cobra.Command{
		Use:   "add NAME --description TEXT --reason TEXT",
		Short: "Approve a new purpose (security officer)",
		Long: `Approve a new purpose for which recordings may be used (R-PURPOSE-2): a lowercase
name, a description, and the reason for the approval (at least 3 words and 15
characters, e.g. the decision it rests on). Recorded with who approved it and when;
"policy" and "purposes list" show it. Needs --as a security officer.

The "purposes" configuration key only seeds an empty store (at the first start);
afterwards purposes change only here.

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent purposes add complaints --description "handling customer complaints" \
      --reason "approved by the board on 2026-11-01, case 17" --as olga`,
		Args: exactArgs("NAME"),
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, args []string, out io.Writer) error {
			return runPurposesChange(ctx, cfg, opts, "add", args[0], out)
		}),
	}
	opts.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&opts.Description, "description", "", "what the purpose is (required)")
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why it is approved (required)")
	return cmd
}

func newPurposesRetireCommand(g *globalOptions) *cobra.Command {
	var opts purposesOptions
	cmd := &cobra.Command{
		Use:   "retire NAME --reason TEXT",
		Short: "Retire a purpose: no access for it from now on (security officer)",
		Long: `Retire a purpose: grants naming it no longer allow access for it. Purposes are never
deleted, so old grants and audit entries keep naming an approved purpose. Needs --as a
security officer and --reason.

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent purposes retire training --reason "training now uses role play only" --as olga`,
		Args:    exactArgs("NAME"),
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, args []string, out io.Writer) error {
			return runPurposesChange(ctx, cfg, opts, "retire", args[0], out)
		}),
	}
	opts.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why it is retired (required)")
	return cmd
}

func runPurposesChange(ctx context.Context, cfg *Config, opts purposesOptions, verb, name string, out io.Writer) (err error) {
	if err := access.ValidName("purpose", name); err != nil {
		return err
	}
	if opts.Reason == "" {
		return invalidf("purposes %s: --reason is required", verb)
	}
	if verb == "add" && opts.Description == "" {
		return invalidf("purposes add: --description is required")
	}
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	by, err := opts.login(ctx, env.svc, "purposes "+verb)
	if err != nil {
		return err
	}
	if verb == "add" {
		err = env.svc.AddPurpose(ctx, by, name, opts.Description, opts.Reason)
	} else {
		err = env.svc.RetirePurpose(ctx, by, name, opts.Reason)
	}
	if err != nil {
		return err
	}
	return report(out, opts.Output, map[string]any{"purpose": name, "action": verb}, fmt.Sprintf("purpose %s: %sd by %s", name, map[string]string{"add": "approve", "retire": "retire"}[verb], by.Name))
}

func newPurposesListCommand(g *globalOptions) *cobra.Command {
	var opts purposesOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the purposes with who approved each, when and why",
		Long: `List every purpose, retired ones too: name, state, description, who approved it, when
and why. The list is the public record of processing: no login needed. The database is
opened read-only; without one, the configured purposes that will seed it are shown (and
stderr says so).

` + exitCodesHelp,
		Example: `  callconsent purposes list
  callconsent purposes list --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			return runPurposesList(cmd.Context(), cfg, opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addOutputFlag(cmd.Flags(), &opts.Output)
	return cmd
}

// purposeJSON is a purpose as scripts read it.
type purposeJSON struct {
	Name         string     `json:"name"`
	Active       bool       `json:"active"`
	Description  string     `json:"description"`
	ApprovedBy   string     `json:"approved_by"`
	ApprovedAt   time.Time  `json:"approved_at"`
	Reason       string     `json:"reason"`
	RetiredAt    *time.Time `json:"retired_at,omitempty"`
	RetiredBy    string     `json:"retired_by,omitempty"`
	RetireReason string     `json:"retire_reason,omitempty"`
}

func newPurposeJSON(p access.Purpose) purposeJSON {
	j := purposeJSON{Name: p.Name, Active: p.Active(), Description: p.Description, ApprovedBy: p.ApprovedBy, ApprovedAt: p.ApprovedAt,
		Reason: p.Reason, RetiredBy: p.RetiredBy, RetireReason: p.RetireReason}
	if !p.RetiredAt.IsZero() {
		t := p.RetiredAt
		j.RetiredAt = &t
	}
	return j
}

func runPurposesList(ctx context.Context, cfg *Config, opts purposesOptions, out io.Writer, logs io.Writer) (err error) {
	ps, stored, err := storedPurposes(ctx, cfg)
	if err != nil {
		return err
	}
	if !stored {
		fmt.Fprintf(logs, "callconsent: no database at %s yet: these are the purposes the configuration will seed at the first start\n", cfg.DB)
	}
	list := make([]purposeJSON, 0, len(ps))
	for _, p := range ps {
		list = append(list, newPurposeJSON(p))
	}
	if opts.Output == outputJSON {
		return writeJSON(out, list)
	}
	return writePurposesTable(out, list)
}

// storedPurposes reads the purposes from the database, opened read-only (nothing created or
// changed); without a database, the configured ones that will seed it, and stored false.
func storedPurposes(ctx context.Context, cfg *Config) (ps []access.Purpose, stored bool, err error) {
	db, err := openReadOnly(ctx, cfg)
	if consent.ErrorCode(err) == consent.ENOTFOUND {
		for _, n := range cfg.Purposes {
			ps = append(ps, access.Purpose{Name: n, Description: "from configuration", ApprovedBy: "configuration (purposes key), to be seeded", Reason: "not stored yet"})
		}
		return ps, false, nil
	} else if err != nil {
		return nil, false, err
	}
	defer closeInto(&err, db)
	ps, err = asqlite.New(db).Purposes(ctx)
	return ps, true, err
}

func writePurposesTable(out io.Writer, list []purposeJSON) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PURPOSE\tSTATE\tAPPROVED BY\tAPPROVED (UTC)\tDESCRIPTION\tREASON")
	for _, p := range list {
		state := "in force"
		if !p.Active {
			state = "retired " + tableTime(*p.RetiredAt) + " by " + p.RetiredBy
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cell(p.Name), cell(state), cell(p.ApprovedBy), tableTime(p.ApprovedAt), cell(p.Description), cell(p.Reason))
	}
	return tw.Flush()
}
