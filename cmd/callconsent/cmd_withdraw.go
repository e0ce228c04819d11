package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/control"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// withdrawOptions are the flags of `callconsent withdraw`.
type withdrawOptions struct {
	Call   string
	Caller string
	Since  timeFlag
	Reason string
	DryRun bool
	Yes    bool
	Output outputFormat
	stdin  io.Reader
	logs   io.Writer // notes for the operator (stderr); nil discards them
	// terminal says whether stdin is a terminal: a withdrawal by caller then asks first.
	terminal func() bool
}

// AddFlags registers withdraw's flags.
func (o *withdrawOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Call, "call", "", "withdraw consent for one call (FreeSWITCH call `UUID`)")
	fs.StringVar(&o.Caller, "caller", "", "withdraw consent for every call of a caller `NUMBER` (any spelling: +47 912 34 567, 004791234567); - reads it from stdin, out of the shell history")
	fs.Var(&o.Since, "since", "with --caller: only calls started at or after this time (RFC 3339, \"YYYY-MM-DD HH:MM:SS\" as the tables show it, or YYYY-MM-DD; UTC unless an offset is given)")
	fs.StringVar(&o.Reason, "reason", "", "why consent is withdrawn, e.g. a ticket id (required; no personal data)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "show what would be withdrawn and deleted; change nothing (--reason not needed)")
	fs.BoolVar(&o.Yes, "yes", false, "with --caller on a terminal: do not ask before withdrawing")
	addOutputFlag(fs, &o.Output)
}

func newWithdrawCommand(g *globalOptions) *cobra.Command {
	opts := withdrawOptions{stdin: os.Stdin, terminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) }}
	cmd := &cobra.Command{
		Use:   "withdraw (--call UUID | --caller NUMBER) --reason TEXT",
		Short: "Withdraw a caller's consent and delete the recordings at once",
		Long: `Withdraw marks consent as withdrawn and deletes the audio at once (R-WITHDRAW-1), by
call UUID or by caller number: the number is turned into its pseudonym with the key
file, so every call of that caller is found, however the number was written.

If the daemon runs (control-socket), it does the work: a call still in progress gets its
recording stopped in FreeSWITCH (uuid_record stop), the partial file deleted, and no
recording afterwards (R-WITHDRAW-2). Without a daemon the command deletes directly and
says so; so it does, after saying why, when the daemon does not answer on its control
socket within 5 s (hung or overloaded). Each deletion leaves a tombstone (call UUID, time, reason withdrawal, bytes).

The withdrawal is committed first, always. Audio that cannot be deleted now (the
recordings folder is missing or unreadable, a file is stuck) stays committed for
deletion, and the next sweep that can deletes it: the command then prints "consent
withdrawn; N file(s) await deletion: <why>" and exits 4. An unknown call is one "not
found" line (exit 3), and nothing is withdrawn.

It prints the calls, files and bytes deleted and exits 4 if anything could not be done.

--dry-run shows what would be withdrawn and deleted (calls, recordings, bytes) and changes
nothing: the database is opened read-only. A withdrawal by --caller on a terminal first
says how many calls and recordings it takes and asks for "yes" (--yes skips the question;
"no" exits 1 with nothing withdrawn).

` + exitCodesHelp,
		Example: `  callconsent withdraw --call 260cc426-4b20-4054-b379-5ba800345a1c --reason "ticket 4711"
  callconsent withdraw --caller "+47 912 34 567" --reason "ticket 4712"
  echo "+4791234567" | callconsent withdraw --caller - --since 2026-11-01 --reason "ticket 4713"
  callconsent withdraw --caller "+47 912 34 567" --dry-run`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			opts.logs = cmd.ErrOrStderr()
			return runWithdraw(cmd.Context(), cfg, opts, cmd.OutOrStdout())
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

func runWithdraw(ctx context.Context, cfg *Config, opts withdrawOptions, out io.Writer) (err error) {
	var res consent.WithdrawResult
	if opts.logs == nil {
		opts.logs = io.Discard
	}
	if (opts.Call == "") == (opts.Caller == "") {
		return invalidf("withdraw: give --call UUID or --caller NUMBER")
	}
	if opts.Call != "" {
		call, ok := consent.CanonicalUUID(opts.Call)
		if !ok {
			return invalidf("withdraw: --call: %q is not a call UUID", opts.Call)
		}
		opts.Call = call
	}
	req := consent.WithdrawRequest{CallUUID: opts.Call, Since: opts.Since.t, Reason: opts.Reason}
	if opts.DryRun {
		return runWithdrawDryRun(ctx, cfg, opts, req, out)
	}
	if strings.TrimSpace(opts.Reason) == "" {
		return invalidf("withdraw: --reason is required (e.g. a ticket id)")
	}
	st, err := openCommandStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, st)
	if opts.Caller != "" {
		number, err := callerNumber(opts.Caller, opts.stdin)
		if err != nil {
			return err
		}
		req.CallerPseudonym = st.Pseudonyms.Pseudonym(number)
	}
	if err := req.Validate(); err != nil {
		return err
	}
	if opts.Caller != "" && !opts.Yes && opts.terminal != nil && opts.terminal() {
		if err := confirmWithdrawal(ctx, st.DB, req, opts.stdin, out); err != nil {
			return err
		}
	}
	// The withdrawal is audited with who asked (this OS account) and why; the calls it took
	// are added when it is done. A caller is never named: by number means "by caller".
	// A withdrawal that cannot be audited still goes ahead (deleting is what the caller asked
	// for, and holding it back protects nobody), and ends in exit 4 saying it is not on record.
	acc, aerr := authorizeWithdrawal(ctx, cfg, st, req)
	if aerr != nil {
		fmt.Fprintf(opts.logs, "callconsent: the withdrawal goes ahead, but it cannot be audited: %v\n", aerr)
	}
	defer func() { err = withdrawalDone(ctx, acc, aerr, res, err) }()

	direct := "no daemon is running"
	res, err = control.Client{Path: cfg.ControlSocket}.Withdraw(ctx, req)
	switch {
	case errors.Is(err, control.ErrNotAnswering):
		direct = "the daemon does not answer"
		fmt.Fprintf(opts.logs, "callconsent: %v\ncallconsent: withdrawing directly instead (this way a call in progress cannot have its recording stopped)\n", err)
		fallthrough
	case errors.Is(err, control.ErrNoDaemon):
		res, err = withdrawDirectly(ctx, cfg, st, req)
	}
	// Otherwise: the daemon's answer, or its failure to give one: res holds what it withdrew.
	if len(res.Calls) == 0 && err != nil {
		return err // nothing withdrawn: the error alone says why
	}
	exports := withdrawnExports(ctx, cfg, res.Calls, opts.logs)
	if opts.Output == outputJSON {
		if werr := writeJSON(out, withdrawJSON{res, exports}); werr != nil {
			return werr
		}
	} else {
		writeWithdrawText(out, res, direct)
		writeWithdrawnExports(out, exports)
	}
	return err
}

// withdrawDirectly does the withdrawal in this process when no daemon runs: there is no live
// call to stop then, and the sweeper's crash-safe deletion removes the audio. The withdrawal
// is committed even when the sweeper cannot open (the recordings folder is missing or
// unreadable): its files then wait, committed, for the next sweep that can delete them.
func withdrawDirectly(ctx context.Context, cfg *Config, st *storage, req consent.WithdrawRequest) (consent.WithdrawResult, error) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var deleter consent.Deleter
	if sw, err := openSweeper(ctx, cfg, st.DB, logger); err != nil {
		deleter = unavailableDeleter{err}
	} else {
		defer sw.Close()
		deleter = sw
	}
	w := &consent.Withdrawer{Store: st.DB, Deleter: deleter, Now: time.Now, Logger: logger}
	return w.Withdraw(ctx, req)
}

// unavailableDeleter stands in for a sweeper that could not open: it deletes nothing and says
// why, so the withdrawal reports its files as awaiting deletion.
type unavailableDeleter struct{ err error }

func (d unavailableDeleter) FinishCommitted(context.Context) (consent.DeleteResult, error) {
	return consent.DeleteResult{}, d.err
}

// callerNumber returns the number given, or reads it from r when given as "-".
func callerNumber(arg string, r io.Reader) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("withdraw: read caller number: %w", err)
	}
	if strings.TrimSpace(line) == "" {
		return "", invalidf("withdraw: --caller -: no number on stdin")
	}
	return strings.TrimSpace(line), nil
}

// writeWithdrawText prints a withdrawal that is committed: res.Calls is not empty. direct says
// why the daemon did not do it, when it did not.
func writeWithdrawText(w io.Writer, r consent.WithdrawResult, direct string) {
	where := "by the running daemon"
	if !r.DaemonSide {
		where = "directly (" + direct + ", so no live call could be stopped)"
	}
	fmt.Fprintf(w, "consent withdrawn %s\ncalls:     %d", where, len(r.Calls))
	if r.Live > 0 {
		fmt.Fprintf(w, " (%d in progress, %d recording stop(s) sent to FreeSWITCH)", r.Live, r.Stopped)
	}
	fmt.Fprintf(w, "\ndeleted:   %d file(s), %d bytes\n", r.Files, r.Bytes)
	if r.FilesPending > 0 {
		fmt.Fprintf(w, "waiting:   %d file(s) committed for deletion, deleted by the next sweep that can: %s\n", r.FilesPending, r.PendingWhy)
	}
	for _, c := range r.Calls {
		fmt.Fprintf(w, "  %s\n", c)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "FAILED: %s\n", f)
	}
}
