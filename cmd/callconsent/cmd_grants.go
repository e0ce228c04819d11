package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/spf13/cobra"
)

func newGrantsCommand(g *globalOptions) *cobra.Command {
	return newGroupCommand("grants", "Give, list and revoke line managers' access (security officer)",
		newGrantsAddCommand(g), newGrantsListCommand(g), newGrantsRevokeCommand(g))
}

// grantsOptions are the flags of the grants commands.
type grantsOptions struct {
	usersOptions
	Purposes []string
	Expires  expiryFlag
	All      bool
}

func newGrantsAddCommand(g *globalOptions) *cobra.Command {
	var opts grantsOptions
	cmd := &cobra.Command{
		Use:   "add USER --purpose P[,P] --expires DATE --reason TEXT",
		Short: "Give a line manager access for purposes until a date",
		Long: `Give a line manager access to search, listen and export recordings for the named
purposes (approved purposes in force, see "purposes list") until --expires (exclusive;
a date means its midnight UTC; at most 366 days ahead). --reason says why (at least 3
words and 15 characters). Needs --as a security officer; prints the grant's id.

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent grants add mats --purpose quality-assurance --expires 2027-03-01 \
      --reason "QA lead for the Oslo team, ticket 4711" --as olga`,
		Args: exactArgs("USER"),
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, args []string, out io.Writer) error {
			return runGrantsAdd(ctx, cfg, opts, args[0], out)
		}),
	}
	opts.AddFlags(cmd.Flags())
	cmd.Flags().StringSliceVar(&opts.Purposes, "purpose", nil, "the grant's `purposes`, comma-separated (required)")
	cmd.Flags().Var(&opts.Expires, "expires", "when the grant ends: YYYY-MM-DD for the whole of that day in time-zone (as the web console), or a time (RFC 3339, or \"YYYY-MM-DD HH:MM\" UTC); required")
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why the access is given (required)")
	return cmd
}

func runGrantsAdd(ctx context.Context, cfg *Config, opts grantsOptions, user string, out io.Writer) (err error) {
	switch {
	case len(opts.Purposes) == 0:
		return invalidf("grants add: --purpose is required (see purposes list)")
	case opts.Expires.t.IsZero():
		return invalidf("grants add: --expires is required, e.g. --expires %s", time.Now().UTC().AddDate(0, 3, 0).Format("2006-01-02"))
	case opts.Reason == "":
		return invalidf("grants add: --reason is required (why the access is given)")
	}
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	by, err := opts.login(ctx, env.svc, "grants add")
	if err != nil {
		return err
	}
	gr, err := env.svc.AddGrant(ctx, by, user, opts.Purposes, opts.Expires.in(cfg.webLocation()), opts.Reason)
	if err != nil {
		return err
	}
	return report(out, opts.Output, newGrantJSON(gr, time.Now()),
		fmt.Sprintf("grant %d: %s may use recordings for %s until %s", gr.ID, gr.User, strings.Join(gr.Purposes, ","), tableTime(gr.ExpiresAt)))
}

// grantJSON is a grant as scripts read it.
type grantJSON struct {
	ID           int64      `json:"id"`
	User         string     `json:"user"`
	Purposes     []string   `json:"purposes"`
	State        string     `json:"state"`
	ExpiresAt    time.Time  `json:"expires_at"`
	GrantedBy    string     `json:"granted_by"`
	GrantedAt    time.Time  `json:"granted_at"`
	Reason       string     `json:"reason"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokedBy    string     `json:"revoked_by,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
}

func newGrantJSON(g access.Grant, now time.Time) grantJSON {
	j := grantJSON{ID: g.ID, User: g.User, Purposes: g.Purposes, State: string(g.State(now)), ExpiresAt: g.ExpiresAt,
		GrantedBy: g.GrantedBy, GrantedAt: g.GrantedAt, Reason: g.Reason, RevokedBy: g.RevokedBy, RevokeReason: g.RevokeReason}
	if !g.RevokedAt.IsZero() {
		t := g.RevokedAt
		j.RevokedAt = &t
	}
	return j
}

func newGrantsListCommand(g *globalOptions) *cobra.Command {
	var opts grantsOptions
	cmd := &cobra.Command{
		Use:   "list [--all]",
		Short: "List the active grants (--all: expired and revoked ones too)",
		Long: `List grants: id, line manager, purposes, state (active, expired, revoked), expiry,
who granted and why. Without --all only active grants. Needs --as a security officer.

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent grants list --as olga
  callconsent grants list --all --as olga --output json`,
		Args: cobra.NoArgs,
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, _ []string, out io.Writer) error {
			return runGrantsList(ctx, cfg, opts, out)
		}),
	}
	opts.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.All, "all", false, "also expired and revoked grants")
	return cmd
}

func runGrantsList(ctx context.Context, cfg *Config, opts grantsOptions, out io.Writer) (err error) {
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	by, err := opts.login(ctx, env.svc, "grants list")
	if err != nil {
		return err
	}
	grants, err := env.svc.Grants(ctx, by, opts.All)
	if err != nil {
		return err
	}
	now := time.Now()
	list := make([]grantJSON, 0, len(grants))
	for _, gr := range grants {
		list = append(list, newGrantJSON(gr, now))
	}
	if opts.Output == outputJSON {
		return writeJSON(out, list)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tPURPOSES\tSTATE\tEXPIRES (UTC)\tGRANTED BY\tREASON")
	for _, j := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, cell(j.User), cell(strings.Join(j.Purposes, ",")), j.State, tableTime(j.ExpiresAt), cell(j.GrantedBy), cell(j.Reason))
	}
	return tw.Flush()
}

func newGrantsRevokeCommand(g *globalOptions) *cobra.Command {
	var opts grantsOptions
	cmd := &cobra.Command{
		Use:   "revoke ID --reason TEXT",
		Short: "Revoke a grant at once",
		Long: `Revoke a grant: from now on it allows nothing. The grant stays on record with who
revoked it, when and why (--reason, at least 3 words and 15 characters). Needs --as a
security officer. A grant revoked already: exit 4; an unknown id: exit 3.

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent grants revoke 3 --reason "moved to the sales department" --as olga`,
		Args:    exactArgs("ID"),
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, args []string, out io.Writer) error {
			return runGrantsRevoke(ctx, cfg, opts, args[0], out)
		}),
	}
	opts.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why the grant ends (required)")
	return cmd
}

func runGrantsRevoke(ctx context.Context, cfg *Config, opts grantsOptions, arg string, out io.Writer) (err error) {
	id, perr := strconv.ParseInt(arg, 10, 64)
	if perr != nil || id <= 0 {
		return invalidf("grants revoke: %s is not a grant id (a positive number, see grants list)", quoteShort(arg))
	}
	if opts.Reason == "" {
		return invalidf("grants revoke: --reason is required (why the access ends)")
	}
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	by, err := opts.login(ctx, env.svc, "grants revoke")
	if err != nil {
		return err
	}
	gr, err := env.svc.RevokeGrant(ctx, by, id, opts.Reason)
	if err != nil {
		return err
	}
	return report(out, opts.Output, newGrantJSON(gr, time.Now()), fmt.Sprintf("grant %d of %s revoked", gr.ID, gr.User))
}

// expiryFlag is --expires: a time, or a bare date that means the whole of that day in the
// site's time zone (time-zone), as the web console reads the date it offers. A grant "until
// 2027-03-01" then still holds on March 1st, where midnight UTC would end it an hour (Oslo)
// into that day.
type expiryFlag struct {
	timeFlag
	day string // YYYY-MM-DD when the value was a bare date
}

// Set implements pflag.Value.
func (f *expiryFlag) Set(v string) error {
	if err := f.timeFlag.Set(v); err != nil {
		return err
	}
	f.day = ""
	if _, err := time.Parse(time.DateOnly, strings.TrimSpace(v)); err == nil {
		f.day = strings.TrimSpace(v)
	}
	return nil
}

// in returns when the grant ends: the start of the day after a bare date, in loc.
func (f *expiryFlag) in(loc *time.Location) time.Time {
	if f.day == "" {
		return f.t
	}
	d, err := time.ParseInLocation(time.DateOnly, f.day, loc)
	if err != nil {
		return f.t
	}
	return d.AddDate(0, 0, 1).UTC()
}
