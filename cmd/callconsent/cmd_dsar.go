package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/export"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// dsarOptions are the flags of `callconsent dsar`.
type dsarOptions struct {
	Caller string
	Reason string
	Out    string
	DryRun bool
	Since  timeFlag
	Until  timeFlag
	Output outputFormat
	identityOptions
	stdin io.Reader
	errw  io.Writer // progress bar and prompts (stderr)
	// bar draws the progress bar; newProgressBar (a terminal only) unless a test draws anyway.
	bar func(w io.Writer, max int, desc string) *progressBar
}

// AddFlags registers dsar's flags.
func (o *dsarOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Caller, "caller", "", "the caller's phone `NUMBER` (any spelling: +47 912 34 567, 004791234567); - reads it from stdin, out of the shell history")
	fs.StringVar(&o.Reason, "reason", "", "why the archive is made, e.g. the request's ticket id (required: at least 3 words; no personal data)")
	fs.StringVar(&o.Out, "out", "", "the archive to write, e.g. `FILE.zip` (must not exist; its folder must)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "list what the archive would hold, write nothing (audited too)")
	fs.Var(&o.Since, "since", "only calls started at or after this time (RFC 3339, \"YYYY-MM-DD HH:MM:SS\" or YYYY-MM-DD, UTC): for a caller with more calls than one archive holds")
	fs.Var(&o.Until, "until", "only calls started before this time (same forms as --since)")
	o.identityOptions.AddFlags(fs)
	addOutputFlag(fs, &o.Output)
}

func newDSARCommand(g *globalOptions) *cobra.Command {
	opts := dsarOptions{stdin: os.Stdin}
	cmd := &cobra.Command{
		Use:   "dsar --caller NUMBER --reason TEXT --out FILE.zip --as NAME",
		Short: "Make a caller's data-subject access archive (security officer)",
		Long: `Dsar answers a caller's access request (GDPR Art. 15, R-ACCESS-3): a zip of everything
callconsent holds about the caller and who accessed it. The number is turned into its
pseudonym with the key file; it is not stored, printed or put in the archive.

The archive holds manifest.json (format: docs/dsar-manifest.md; every call with its
decision and full proof of consent, withdrawal, the recording's life or its tombstone,
every audit entry naming the calls, and the SHA-256 of every other file), audio/<uuid>.wav
for each recording still held, notices/<lang>-<version>.wav for the notices the caller
heard (when the file held has the proof's hash), and README.txt in Norwegian and English.
A caller without calls gets an archive that says so.

Only a security officer may run it, with --as NAME and a reason; every attempt, refused
ones too, is in the audit log, and the entry of a written archive holds its SHA-256.
The archive is written to a temporary file beside --out, synced and renamed, mode 0600;
an existing --out is never replaced (exit 4). It streams: memory does not grow with the
audio. On a terminal a progress bar on stderr counts the MiB copied.

--dry-run lists what the archive would hold and writes nothing. One archive holds at
most 50000 calls; a caller with more gets one archive per period (--since, --until),
and a larger request is refused (exit 4) saying so.

` + accessHelp + `
With --caller - the number is read from stdin, so the password must come from the
terminal or --password-file. Prefer it: a number written on the command line stays in
the shell history and is visible to every local account in ps while the command runs.

` + exitCodesHelp,
		Example: `  callconsent dsar --as anne --password-file ~/.cc-pw --caller - --reason "access request ticket 4711" --out /secure/4711.zip < number.txt
  read -rs NUMBER; echo "$NUMBER" | callconsent dsar --as anne --password-file ~/.cc-pw --caller - --reason "access request ticket 4712" --out 4712.zip
  callconsent dsar --as anne --password-file ~/.cc-pw --caller - --reason "access request ticket 4711" --dry-run < number.txt`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			opts.errw = cmd.ErrOrStderr()
			opts.secrets = newSecretReader(opts.errw)
			return runDSAR(cmd.Context(), cfg, opts, cmd.OutOrStdout())
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// runDSAR checks the input, logs the security officer in, and has the export service make
// (or plan) the archive.
func runDSAR(ctx context.Context, cfg *Config, opts dsarOptions, out io.Writer) (err error) {
	if opts.errw == nil {
		opts.errw = io.Discard
	}
	if opts.bar == nil {
		opts.bar = newProgressBar
	}
	if opts.As == "" {
		return invalidf("dsar: --as NAME is required: who makes the archive is recorded in the audit log")
	}
	if opts.Caller == "" {
		return invalidf("dsar: --caller NUMBER is required (- reads it from stdin)")
	}
	if !opts.Since.t.IsZero() && !opts.Until.t.IsZero() && !opts.Until.t.After(opts.Since.t) {
		return invalidf("dsar: --until must be after --since")
	}
	if !opts.DryRun && opts.Out == "" {
		return invalidf("dsar: --out FILE.zip is required (or --dry-run)")
	}
	if !opts.DryRun {
		if err := checkOut("dsar", opts.Out); err != nil {
			return err
		}
	}
	if opts.Caller == "-" && opts.PasswordFile == "" && (opts.secrets == nil || !opts.secrets.terminal) {
		return invalidf("dsar: stdin carries the caller number (--caller -): give the password with --password-file FILE or run it on a terminal")
	}
	x, err := openExports(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, x)
	actor, err := opts.login(ctx, x.access, "dsar")
	if err != nil {
		return err
	}
	number, err := readCaller("dsar", opts.Caller, opts.stdin)
	if err != nil {
		return err
	}
	var bar *progressBar
	req := export.DSARRequest{Actor: actor, CallerPseudonym: x.st.Pseudonyms.Pseudonym(number), Reason: opts.Reason, Out: opts.Out, DryRun: opts.DryRun,
		Since: opts.Since.t, Until: opts.Until.t,
		Progress: func(done, total int64) {
			if bar == nil {
				bar = opts.bar(opts.errw, int(mib(total)), "archive (MiB)")
			}
			bar.Set(int(mib(done)))
		}}
	res, err := x.svc.DSAR(ctx, req)
	bar.Finish()
	if err != nil {
		return err
	}
	return writeDSAR(out, opts, res)
}

// readCaller returns the number arg names, reading it from r when arg is "-", and refuses
// what is no phone number before anything is looked up.
func readCaller(cmdName, arg string, r io.Reader) (string, error) {
	number := arg
	if arg == "-" {
		line, err := readLine(bufio.NewReader(r), 256)
		if err != nil {
			return "", invalidf("%s: --caller -: no number on stdin", cmdName)
		}
		number = strings.TrimSpace(line)
	}
	if _, ok := consent.NormalizeNumber(number); !ok {
		return "", invalidf("%s: --caller: not a phone number (digits, an optional leading + or 00, spaces and dashes); calls without a number cannot be told apart", cmdName)
	}
	return number, nil
}

// mib is n bytes in whole MiB, rounded up.
func mib(n int64) int64 { return (n + 1<<20 - 1) >> 20 }

// dsarJSON is dsar's --output json.
type dsarJSON struct {
	DryRun  bool                 `json:"dry_run"`
	Path    string               `json:"path,omitempty"`
	Bytes   int64                `json:"bytes,omitempty"`
	SHA256  string               `json:"sha256,omitempty"`
	Summary export.Summary       `json:"summary"`
	Calls   []dsarCallJSON       `json:"calls"`
	Files   []export.PlannedFile `json:"files"`
}

type dsarCallJSON struct {
	UUID      string `json:"uuid"`
	StartedAt string `json:"started_at"`
	Decision  string `json:"decision"`
	Audio     string `json:"audio"` // the file in the archive, "deleted", or "none"
}

// writeDSAR prints what was written, or for a dry run what would be.
func writeDSAR(out io.Writer, opts dsarOptions, res *export.DSARResult) error {
	v := dsarJSON{DryRun: opts.DryRun, Summary: res.Archive.Summary(), Calls: []dsarCallJSON{}, Files: res.Archive.Planned()}
	for _, c := range res.Archive.Manifest.Calls {
		audio := "none"
		switch {
		case c.Recording != nil && c.Recording.File != nil:
			audio = *c.Recording.File
		case len(c.Tombstones) > 0:
			audio = "deleted"
		}
		v.Calls = append(v.Calls, dsarCallJSON{UUID: c.UUID, StartedAt: tableTime(c.StartedAt), Decision: string(c.Decision), Audio: audio})
	}
	if w := res.Written; w != nil {
		v.Path, v.Bytes, v.SHA256 = w.Path, w.Bytes, w.SHA256
	}
	if opts.Output == outputJSON {
		return writeJSON(out, v)
	}
	s := v.Summary
	if w := res.Written; w != nil {
		fmt.Fprintf(out, "access archive written: %s (%d bytes, mode 0600)\nsha256: %s (also in the audit log)\n", w.Path, w.Bytes, w.SHA256)
	} else {
		fmt.Fprintln(out, "dry run: nothing written; the archive would hold:")
	}
	fmt.Fprintf(out, "calls: %d (audio deleted for %d), recordings: %d (%d bytes), notices: %d, audit entries: %d\n",
		s.Calls, s.Deleted, s.Recordings, s.AudioBytes, s.Notices, s.AuditEntries)
	if s.Calls == 0 {
		fmt.Fprintln(out, "no calls are held from this number: the archive says so")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UUID\tSTARTED (UTC)\tDECISION\tAUDIO")
	for _, c := range v.Calls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.UUID, c.StartedAt, c.Decision, c.Audio)
	}
	return tw.Flush()
}

// checkOut refuses an --out that exists or whose folder does not, before anyone logs in: a
// mistyped path is a usage error, not an audited failure of an authorised export.
func checkOut(cmdName, out string) error {
	if _, err := os.Lstat(out); err == nil {
		return consent.Errorf(consent.ECONFLICT, "%s: --out %s exists; choose another name or remove it first (nothing was written)", cmdName, out)
	}
	if fi, err := os.Stat(filepath.Dir(out)); err != nil || !fi.IsDir() {
		return invalidf("%s: --out %s: folder %s does not exist; create it first", cmdName, out, filepath.Dir(out))
	}
	return nil
}
