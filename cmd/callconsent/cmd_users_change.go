package main

import (
	"context"
	"fmt"
	"io"

	"github.com/callconsent/callconsent/access"
	"github.com/spf13/cobra"
)

// userChanges are the users subcommands that change one user.
var userChanges = map[string]struct{ short, long, example string }{
	"disable": {
		"Disable a user for good (users are never deleted) and end their sessions",
		`Disable a user: they can no longer log in, their web sessions end, and their grants
no longer allow anything. Users are never deleted, so the audit log's names keep
pointing at someone. Needs --as a security officer and --reason.`,
		`  callconsent users disable mats --reason "left the company on 2026-11-30" --as olga`,
	},
	"passwd": {
		"Set a user's password (a security officer's reset, or your own)",
		`Set a user's password: a security officer resets anyone's, a user changes their own
(--as the same NAME). Every web session of the user ends. A password an officer set
allows the user nothing but setting their own (not the same one again): with this command
(--as the same NAME), or in the web console, whose sign-in asks for it.
The new password comes from --new-password-file, the terminal (asked twice) or the next
line of stdin.`,
		`  callconsent users passwd mats --as olga
  callconsent users passwd mats --as mats --new-password-file ./new-pw`,
	},
	"unlock": {
		"Release a user locked by failed logins",
		`Clear a user's failed logins and lockout (ten failed logins lock an account for an
hour; the lock also ends by itself). Needs --as a security officer, or runs without --as
as the host account (audited as host:ACCOUNT), so that officers who are all locked out
can be let in again.`,
		`  callconsent users unlock mats --as olga
  sudo -u callconsent callconsent users unlock olga`,
	},
}

func newUsersChangeCommand(g *globalOptions, verb string) *cobra.Command {
	var opts usersOptions
	t := userChanges[verb]
	cmd := &cobra.Command{
		Use:     verb + " NAME",
		Short:   t.short,
		Long:    t.long + "\n\n" + accessHelp + "\n\n" + exitCodesHelp,
		Example: t.example,
		Args:    exactArgs("NAME"),
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, args []string, out io.Writer) error {
			return runUsersChange(ctx, cfg, opts, verb, args[0], out)
		}),
	}
	opts.AddFlags(cmd.Flags())
	switch verb {
	case "disable":
		cmd.Flags().StringVar(&opts.Reason, "reason", "", "why the user is disabled (required)")
	case "passwd":
		opts.addNewPasswordFlag(cmd.Flags())
	}
	return cmd
}

// runUsersChange disables, sets the password of, or unlocks name.
func runUsersChange(ctx context.Context, cfg *Config, opts usersOptions, verb, name string, out io.Writer) (err error) {
	if err := access.ValidName("user", name); err != nil {
		return err
	}
	if verb == "disable" && opts.Reason == "" {
		return invalidf("users disable: --reason is required (why the user goes)")
	}
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	var by access.Actor
	if verb == "unlock" && opts.As == "" {
		// The host account may release a lockout (audited as host:ACCOUNT): otherwise
		// officers all locked out would have nobody to let them in.
		by = hostActor()
	} else if by, err = opts.login(ctx, env.svc, "users "+verb); err != nil {
		return err
	}
	var done string
	switch verb {
	case "disable":
		err, done = env.svc.DisableUser(ctx, by, name, opts.Reason), "disabled "+name+"; their sessions ended"
	case "unlock":
		err, done = env.svc.UnlockUser(ctx, by, name), "unlocked "+name
	case "passwd":
		pw, perr := opts.newPassword(name)
		if perr != nil {
			return perr
		}
		err, done = env.svc.SetPassword(ctx, by, name, pw), "password of "+name+" set; their sessions ended"
	default:
		return fmt.Errorf("unknown users command %s", verb)
	}
	if err != nil {
		return err
	}
	return report(out, opts.Output, map[string]any{"user": name, "action": verb}, done)
}
