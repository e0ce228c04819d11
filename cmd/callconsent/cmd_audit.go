package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/spf13/cobra"
)

func newAuditCommand(g *globalOptions) *cobra.Command {
	return newGroupCommand("audit", "Read and verify the tamper-evident audit log (R-SEC-2)",
		newAuditListCommand(g), newAuditVerifyCommand(g))
}

// auditOptions are the flags of the audit commands.
type auditOptions struct {
	usersOptions
	Since, Until timeFlag
	Actor        string
	Action       string
	Calls        []string
	Limit        int
}

func newAuditListCommand(g *globalOptions) *cobra.Command {
	var opts auditOptions
	cmd := &cobra.Command{
		Use:   "list [--since --until --actor --action --call UUID]",
		Short: "List audit entries: who did what, when, for which purpose and why",
		Long: `List the audit log's entries, oldest first: sequence number, time (UTC), actor (a
tool user, or host:ACCOUNT for host commands), role, action (login, login.failed,
user.add, grant.add, grant.revoke, purpose.add, search, listen, host-read, withdraw,
sweep-force, audit.list, audit.verify, ...), result (ok, denied, error), purpose,
reason, the objects (call UUIDs, users, grants) and details (a search's filters and how
many calls it returned). Entries hold no caller number, password or hash.

Needs --as a security officer; reading the log is itself audited. --call selects the
entries about a call (repeatable). At most --limit entries (default 1000, at most 10000).

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent audit list --as olga
  callconsent audit list --as olga --actor mats --since 2026-11-01 --output json
  callconsent audit list --as olga --call 3f2c0c1e-8d5b-4c1e-9a0e-1c2d3e4f5a6b`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			opts.secrets = newSecretReader(cmd.ErrOrStderr())
			return runAuditList(cmd.Context(), cfg, opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	opts.AddFlags(cmd.Flags())
	cmd.Flags().Var(&opts.Since, "since", "only entries at or after this time (RFC 3339 or YYYY-MM-DD, UTC)")
	cmd.Flags().Var(&opts.Until, "until", "only entries before this time (exclusive)")
	cmd.Flags().StringVar(&opts.Actor, "actor", "", "only entries of this actor (a user name, host:ACCOUNT or system:daemon, as the table shows it)")
	cmd.Flags().StringVar(&opts.Action, "action", "", "only entries of this action (e.g. listen, grant.add)")
	cmd.Flags().StringArrayVar(&opts.Calls, "call", nil, "only entries about this call `UUID` (repeatable)")
	cmd.Flags().IntVar(&opts.Limit, "limit", 1000, "at most this many entries (1..10000)")
	return cmd
}

// entryJSON is an audit entry as scripts read it.
type entryJSON struct {
	Seq       int64           `json:"seq"`
	Time      time.Time       `json:"time"`
	Actor     string          `json:"actor"`
	ActorKind string          `json:"actor_kind"`
	Role      string          `json:"role,omitempty"`
	Action    string          `json:"action"`
	Result    string          `json:"result"`
	Purpose   string          `json:"purpose,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Objects   []access.Object `json:"objects"`
	Detail    string          `json:"detail,omitempty"`
	MAC       string          `json:"mac"`
}

func runAuditList(ctx context.Context, cfg *Config, opts auditOptions, out, logs io.Writer) (err error) {
	if opts.Limit < 1 || opts.Limit > access.MaxAuditList {
		return invalidf("audit list: --limit %d: must be 1 to %d", opts.Limit, access.MaxAuditList)
	}
	f := access.AuditFilter{Since: opts.Since.t, Until: opts.Until.t, Action: opts.Action, Limit: opts.Limit + 1}
	f.Actor, f.ActorKind = splitActor(opts.Actor)
	for _, c := range opts.Calls {
		u, ok := consent.CanonicalUUID(c)
		if !ok {
			return invalidf("audit list: --call %s is not a call UUID", quoteShort(c))
		}
		f.Objects = append(f.Objects, access.Object{Kind: access.ObjectCall, ID: u})
	}
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	by, err := opts.login(ctx, env.svc, "audit list")
	if err != nil {
		return err
	}
	entries, err := env.svc.AuditEntries(ctx, by, f)
	if err != nil {
		return err
	}
	if len(entries) > opts.Limit {
		entries = entries[:opts.Limit]
		defer fmt.Fprintf(logs, "callconsent: showing the first %d entries; more match: narrow with --since, or raise --limit\n", opts.Limit)
	}
	list := make([]entryJSON, 0, len(entries))
	for _, e := range entries {
		list = append(list, entryJSON{Seq: e.Seq, Time: e.Time, Actor: e.Actor, ActorKind: string(e.ActorKind), Role: string(e.Role),
			Action: e.Action, Result: string(e.Result), Purpose: e.Purpose, Reason: e.Reason, Objects: append([]access.Object{}, e.Objects...),
			Detail: e.Detail, MAC: fmt.Sprintf("%x", e.MAC)})
	}
	if opts.Output == outputJSON {
		return writeJSON(out, list)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME (UTC)\tACTOR\tROLE\tACTION\tRESULT\tPURPOSE\tREASON\tOBJECTS\tDETAIL")
	for _, e := range list {
		actor := e.Actor
		if e.ActorKind != string(access.ActorUser) {
			actor = e.ActorKind + ":" + e.Actor
		}
		var objs []string
		for _, o := range e.Objects {
			objs = append(objs, o.Kind+":"+o.ID)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, tableTime(e.Time), cell(actor), cell(e.Role), cell(e.Action), cell(e.Result),
			cell(e.Purpose), cell(e.Reason), cell(strings.Join(objs, " ")), cell(e.Detail))
	}
	return tw.Flush()
}

// splitActor reads --actor as the table shows it: host:ACCOUNT and system:NAME name that kind of
// actor (the store keeps the bare name and the kind apart), a bare name any actor so named.
func splitActor(s string) (string, access.ActorKind) {
	for _, k := range []access.ActorKind{access.ActorHost, access.ActorSystem, access.ActorUser} {
		if name, ok := strings.CutPrefix(s, string(k)+":"); ok {
			return name, k
		}
	}
	return s, ""
}

func newAuditVerifyCommand(g *globalOptions) *cobra.Command {
	var opts auditOptions
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify the audit log's chain; name any changed, deleted, inserted, swapped or cut entries",
		Long: `Verify the audit log: every entry must be sealed by the audit key (HMAC-SHA-256 over the
previous entry's MAC; the key lives in audit-key-file, outside the database) and follow the
one before it, and the log must reach the head recorded in the head file beside the key
(audit-key-file + ".head"), so a cut tail shows. Each problem is named with its entry:
changed (content no longer matches its MAC), deleted (an entry is missing between two
others), inserted (an entry nobody with the key sealed), swapped (two entries changed
places), cut-tail (the log ends before the head file's entry), head (the head file's entry
was replaced, or the head file is missing), anchor (the record of a prune is forged), index
(the index DSARs and --call look entries up by does not match an entry's objects).
While the log does not reach the head file's entry, no new entry is written (and requests
that need one are refused) until the database is restored; this still runs.

Run on the host by the service account, or --as a security officer. The verification is
audited. Exit 0 when the log verifies, 5 when it does not (an alarm: someone with write
access to the database changed it; keep a copy of the database and the head file as
evidence).

` + exitCodesHelp,
		Example: `  callconsent audit verify
  callconsent audit verify --as olga --output json`,
		Args: cobra.NoArgs,
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, _ []string, out io.Writer) error {
			return runAuditVerify(ctx, cfg, opts, out)
		}),
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// verifyJSON is audit verify's JSON output.
type verifyJSON struct {
	OK       bool             `json:"ok"`
	Entries  int64            `json:"entries"`
	FirstSeq int64            `json:"first_seq"`
	HeadSeq  int64            `json:"head_seq"` // 0: no head file yet
	Problems []access.Problem `json:"problems"`
}

func runAuditVerify(ctx context.Context, cfg *Config, opts auditOptions, out io.Writer) (err error) {
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	by := hostActor()
	if opts.As != "" {
		if by, err = opts.login(ctx, env.svc, "audit verify"); err != nil {
			return err
		}
	}
	rep, err := env.svc.Verify(ctx, by)
	if err != nil {
		return err
	}
	v := verifyJSON{OK: rep.OK(), Entries: rep.Entries, FirstSeq: rep.FirstSeq, Problems: append([]access.Problem{}, rep.Problems...)}
	if rep.Head != nil {
		v.HeadSeq = rep.Head.Seq
	}
	if opts.Output == outputJSON {
		err = writeJSON(out, v)
	} else if v.OK {
		_, err = fmt.Fprintf(out, "audit log verified: %d entries from seq %d, head file at seq %d\n", v.Entries, v.FirstSeq, v.HeadSeq)
	} else {
		for _, p := range v.Problems {
			fmt.Fprintf(out, "%s at seq %d: %s\n", p.Kind, p.Seq, p.Message)
		}
	}
	if err != nil || v.OK {
		return err
	}
	return &alarmError{fmt.Sprintf("audit verify: the audit log was tampered with: %d problem(s), first: %s", len(v.Problems), v.Problems[0].Message)}
}
