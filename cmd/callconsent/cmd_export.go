package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/export"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// exportOptions are the flags of `callconsent export`.
type exportOptions struct {
	Purpose string
	Reason  string
	Out     string
	Mutes   []string
	Output  outputFormat
	identityOptions
	errw io.Writer
}

// AddFlags registers export's flags.
func (o *exportOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Purpose, "purpose", "", "the purpose of the export: training (required; your grant must cover it)")
	fs.StringVar(&o.Reason, "reason", "", "why you export this call (required: at least 3 words; no personal data)")
	fs.StringVar(&o.Out, "out", "", "the WAV to write, `FILE.wav` (must not exist); its sidecar FILE.json goes beside it")
	fs.StringArrayVar(&o.Mutes, "mute", nil, "silence a range, seconds from the start: `START-END` (both channels), caller:START-END or agent:START-END, END may be \"end\"; repeatable")
	o.identityOptions.AddFlags(fs)
	addOutputFlag(fs, &o.Output)
}

func newExportCommand(g *globalOptions) *cobra.Command {
	var opts exportOptions
	cmd := &cobra.Command{
		Use:   "export UUID --purpose training --reason TEXT --out FILE.wav --as NAME",
		Short: "Make a pseudonymised training copy of a recording (line manager)",
		Long: `Export writes a training copy of one call's recording (R-PSEUDO-3): the stereo audio
(caller left, agent right) with each --mute range replaced by digital silence, sample
accurate, everything else bit for bit the original. Each range fades out over its first
and back in over its last 5 ms (inside the range, so nothing outside changes); widen a
range by 5 ms where a word starts right at its edge. Overlapping ranges are merged; a range
past the end of the recording is refused (exit 2).

The WAV is a plain RIFF/WAVE file with only its fmt and data chunks: no metadata, no call
UUID, no path. The sidecar FILE.json holds a random export id, the day of the call (not
the time), the language, the duration and the muted ranges. The link from the export id
to the call is kept only in the audit log: calls show UUID lists the exports made from a
call, so that after a withdrawal the copies can be removed.

Only a line manager holding a grant for purpose training may export, with --as NAME and a
reason; the call must have consent granted and not withdrawn, and its recording must be
complete and still held (otherwise exit 4). Every attempt, refused ones too, is in the
audit log. Both files are written to temporary files, synced and renamed, mode 0600;
existing files are never replaced (exit 4).

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent export 6f1c2a4e-9d3b-4c7a-8e21-0b5d7f3a9c11 --as kari --purpose training \
      --reason "example for the december onboarding course" --out call-12.wav \
      --mute caller:3.2-5.75 --mute 61-64.5
  callconsent export 6f1c2a4e-9d3b-4c7a-8e21-0b5d7f3a9c11 --as kari --password-file ~/.cc-pw \
      --purpose training --reason "example for the december onboarding course" --out call-13.wav --mute 120-end`,
		Args: exactArgs("UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			opts.errw = cmd.ErrOrStderr()
			opts.secrets = newSecretReader(opts.errw)
			return runExport(cmd.Context(), cfg, opts, args[0], cmd.OutOrStdout())
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// runExport checks the input, logs the line manager in, and has the export service write the
// training copy.
func runExport(ctx context.Context, cfg *Config, opts exportOptions, arg string, out io.Writer) (err error) {
	if opts.errw == nil {
		opts.errw = io.Discard
	}
	uuid, ok := consent.CanonicalUUID(arg)
	if !ok {
		return invalidf("export: %q is not a call UUID (8-4-4-4-12 hex digits)", arg)
	}
	if !strings.HasSuffix(opts.Out, ".wav") {
		return invalidf("export: --out FILE.wav is required (a name ending in .wav; the sidecar .json goes beside it)")
	}
	for _, name := range []string{opts.Out, export.SidecarPath(opts.Out)} {
		if err := checkOut("export", name); err != nil {
			return err
		}
	}
	if opts.As == "" {
		return invalidf("export: --as NAME is required: who exports is recorded in the audit log")
	}
	var mutes []export.Mute
	for _, s := range opts.Mutes {
		m, err := export.ParseMute(s)
		if err != nil {
			return invalidf("export: %s", consent.ErrorMessage(err))
		}
		mutes = append(mutes, m)
	}
	x, err := openExports(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, x)
	actor, err := opts.login(ctx, x.access, "export")
	if err != nil {
		return err
	}
	var bar *progressBar
	res, err := x.svc.Training(ctx, export.TrainingRequest{Actor: actor, CallUUID: uuid, Purpose: opts.Purpose, Reason: opts.Reason,
		Out: opts.Out, Mutes: mutes, Progress: func(done, total int64) {
			if bar == nil {
				bar = newProgressBar(opts.errw, int(total), "export (frames)")
			}
			bar.Set(int(done))
		}})
	bar.Finish()
	if err != nil {
		return err
	}
	if opts.Output == outputJSON {
		return writeJSON(out, struct {
			WAV         string `json:"wav"`
			SidecarPath string `json:"sidecar"`
			*export.Sidecar
		}{res.Out, res.SidecarPath, res.Sidecar})
	}
	sc := res.Sidecar
	fmt.Fprintf(out, "training export written: %s and %s (mode 0600)\nexport id: %s (its link to the call is in the audit log only)\n", res.Out, res.SidecarPath, sc.ExportID)
	fmt.Fprintf(out, "duration: %s, muted: %d range(s) (per channel, overlaps merged)\n", msDuration(sc.DurationMS), len(sc.Muted))
	for _, m := range sc.Muted {
		fmt.Fprintf(out, "  %s %g-%g s\n", m.Channel, m.Start, m.End)
	}
	return nil
}
