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
	"github.com/spf13/pflag"
)

func newUsersCommand(g *globalOptions) *cobra.Command {
	return newGroupCommand("users", "Manage the tool's users (security officer)",
		newUsersAddCommand(g), newUsersListCommand(g), newUsersChangeCommand(g, "disable"),
		newUsersChangeCommand(g, "passwd"), newUsersChangeCommand(g, "unlock"))
}

// usersOptions are the flags of the users commands.
type usersOptions struct {
	identityOptions
	Role            string
	Reason          string
	NewPasswordFile string
	Output          outputFormat
}

// AddFlags registers the flags every users command shares.
func (o *usersOptions) AddFlags(fs *pflag.FlagSet) {
	o.identityOptions.AddFlags(fs)
	addOutputFlag(fs, &o.Output)
}

func (o *usersOptions) addNewPasswordFlag(fs *pflag.FlagSet) {
	fs.StringVar(&o.NewPasswordFile, "new-password-file", "", "read the new user's password from the first line of `file` (mode 0600); else the terminal (asked twice) or the next line of stdin")
}

func (o *usersOptions) newPassword(name string) (string, error) {
	if o.NewPasswordFile != "" {
		return readSecretFile("--new-password-file", o.NewPasswordFile)
	}
	return o.secrets.readNew("new password of " + name)
}

func newUsersAddCommand(g *globalOptions) *cobra.Command {
	var opts usersOptions
	cmd := &cobra.Command{
		Use:   "add NAME --role security-officer|line-manager",
		Short: "Add a user (the first security officer on the host without login)",
		Long: `Add a tool user with one role: security-officer (manages users, grants and purposes,
reads the audit log, makes access-request exports; never searches or listens) or
line-manager (searches, listens and exports while holding a grant).

Bootstrap: while no enabled security officer exists, "users add NAME --role
security-officer" without --as, run on the host, adds the first one without a login,
audited as a bootstrap by the OS account. After that every change needs --as a security
officer. Passwords: at least 12 characters, not containing the user name; the new
password comes from --new-password-file, the terminal (asked twice) or stdin (after the
--as password when both come from stdin).

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent users add olga --role security-officer            # bootstrap, on the host
  callconsent users add mats --role line-manager --as olga
  printf '%s\n%s\n' "$OLGA_PW" "$NEW_PW" | callconsent users add nina --role line-manager --as olga`,
		Args: exactArgs("NAME"),
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, args []string, out io.Writer) error {
			return runUsersAdd(ctx, cfg, opts, args[0], out)
		}),
	}
	opts.AddFlags(cmd.Flags())
	opts.addNewPasswordFlag(cmd.Flags())
	cmd.Flags().StringVar(&opts.Role, "role", "", "the user's `role`: security-officer or line-manager (required)")
	return cmd
}

// runUsersAdd adds a user, or bootstraps the first security officer.
func runUsersAdd(ctx context.Context, cfg *Config, opts usersOptions, name string, out io.Writer) (err error) {
	role, err := access.ParseRole(opts.Role)
	if err != nil {
		return invalidf("--role: %s", consent.ErrorMessage(err))
	}
	if err := access.ValidName("user", name); err != nil {
		return err
	}
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	if opts.As == "" {
		// The bootstrap: the service refuses it (and audits the refusal) once an officer exists.
		if role != access.RoleSecurityOfficer {
			return invalidf("users add --role %s needs --as NAME, a security officer (without --as only the first security officer can be added, on the host)", role)
		}
		if opts.PasswordFile != "" {
			return invalidf("--password-file is the password of the --as user, and the bootstrap has no --as: give the new security officer's password with --new-password-file FILE, on the terminal or on stdin")
		}
		pw, err := opts.newPassword(name)
		if err != nil {
			return err
		}
		if err := env.svc.Bootstrap(ctx, hostActor(), name, pw); err != nil {
			return err
		}
		return report(out, opts.Output, map[string]any{"user": name, "role": role, "bootstrap": true},
			fmt.Sprintf("added %s (security-officer) as the first security officer, by %s", name, hostActor()))
	}
	by, err := opts.login(ctx, env.svc, "users add")
	if err != nil {
		return err
	}
	pw, err := opts.newPassword(name)
	if err != nil {
		return err
	}
	if err := env.svc.AddUser(ctx, by, name, role, pw); err != nil {
		return err
	}
	return report(out, opts.Output, map[string]any{"user": name, "role": role, "bootstrap": false},
		fmt.Sprintf("added %s (%s)", name, role))
}

// report prints text, or v as JSON.
func report(out io.Writer, format outputFormat, v any, text string) error {
	if format == outputJSON {
		return writeJSON(out, v)
	}
	_, err := fmt.Fprintln(out, text)
	return err
}

func newUsersListCommand(g *globalOptions) *cobra.Command {
	var opts usersOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the users, their roles and whether they are disabled or locked",
		Long: `List the tool users: name, role, created when and by whom, disabled, failed logins
and locked-until. Password hashes are never shown. Needs --as a security officer.

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent users list --as olga
  callconsent users list --as olga --password-file ~/.olga-pw --output json`,
		Args: cobra.NoArgs,
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, _ []string, out io.Writer) error {
			return runUsersList(ctx, cfg, opts, out)
		}),
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// userJSON is a user as scripts read it; it has no field for the hash.
type userJSON struct {
	Name         string     `json:"name"`
	Role         string     `json:"role"`
	Disabled     bool       `json:"disabled"`
	CreatedAt    time.Time  `json:"created_at"`
	CreatedBy    string     `json:"created_by"`
	FailedLogins int        `json:"failed_logins"`
	LockedUntil  *time.Time `json:"locked_until,omitempty"`
}

func runUsersList(ctx context.Context, cfg *Config, opts usersOptions, out io.Writer) (err error) {
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	by, err := opts.login(ctx, env.svc, "users list")
	if err != nil {
		return err
	}
	users, err := env.svc.Users(ctx, by)
	if err != nil {
		return err
	}
	list := make([]userJSON, 0, len(users))
	for _, u := range users {
		j := userJSON{Name: u.Name, Role: string(u.Role), Disabled: u.Disabled, CreatedAt: u.CreatedAt, CreatedBy: u.CreatedBy, FailedLogins: u.FailedLogins}
		if !u.LockedUntil.IsZero() {
			lu := u.LockedUntil
			j.LockedUntil = &lu
		}
		list = append(list, j)
	}
	if opts.Output == outputJSON {
		return writeJSON(out, list)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tCREATED (UTC)\tBY\tFAILED LOGINS")
	for _, u := range list {
		state := "enabled"
		if u.Disabled {
			state = "disabled"
		} else if u.LockedUntil != nil && u.LockedUntil.After(time.Now()) {
			state = "locked until " + tableTime(*u.LockedUntil)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", u.Name, u.Role, state, tableTime(u.CreatedAt), u.CreatedBy, u.FailedLogins)
	}
	return tw.Flush()
}
