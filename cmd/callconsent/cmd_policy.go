package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// policyOptions are the options of policy.
type policyOptions struct {
	Output outputFormat
}

// AddFlags registers --output.
func (o *policyOptions) AddFlags(fs *pflag.FlagSet) { addOutputFlag(fs, &o.Output) }

func newPolicyCommand(g *globalOptions) *cobra.Command {
	var opts policyOptions
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Print the effective recording policy (for the record of processing)",
		Long: `Print the recording policy this configuration puts into effect (R-INFO-1):
purposes, retention, consent prompt (tries, digit timeout, notices with version and
SHA-256 of the audio), where audio and data live, transfer target and sweep schedule.

Purposes come from the database, with who approved each, when and why (the "purposes"
key only seeds an empty store); before a database exists, the configured ones are shown.
A notice file that cannot be read is shown as "missing"; run and config check refuse it.
The pseudonymisation key and the ESL password are never printed, only their paths.

` + exitCodesHelp,
		Example: `  callconsent policy
  callconsent --config /etc/callconsent/callconsent.yaml policy --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			return runPolicy(cmd.Context(), cfg, opts, cmd.OutOrStdout())
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// policyJSON is the JSON form of the effective policy.
type policyJSON struct {
	ConfigFile string   `json:"config_file"` // "" when only defaults apply
	Purposes   []string `json:"purposes"`    // the names of the purposes in force
	// PurposeRecords are the stored purposes, retired ones too, with who approved each, when
	// and why; PurposesSource says "store", or "configuration" before a database exists.
	PurposeRecords  []purposeJSON `json:"purpose_records"`
	PurposesSource  string        `json:"purposes_source"`
	Retention       string        `json:"retention"`
	RetentionDays   float64       `json:"retention_days"`
	Tries           int           `json:"tries"`
	MinNotice       string        `json:"min_notice"`
	DigitTimeout    string        `json:"digit_timeout"`
	DefaultLanguage string        `json:"default_language"`
	Notices         []noticeJSON  `json:"notices"`
	RecordingsDir   string        `json:"recordings_dir"`
	DB              string        `json:"db"`
	KeyFile         string        `json:"key_file"`
	Transfer        string        `json:"transfer"`
	SweepSchedule   string        `json:"sweep_schedule"`
	OrphanGrace     string        `json:"orphan_grace"`
	MaxDeleteShare  float64       `json:"max_delete_share"`
}

type noticeJSON struct {
	Language    string `json:"language"`
	Version     string `json:"version"`
	File        string `json:"file"`
	InvalidFile string `json:"invalid_file,omitempty"`
	SHA256      string `json:"sha256"` // "missing" when the file cannot be read
}

func newPolicyJSON(cfg *Config) policyJSON {
	p := policyJSON{
		ConfigFile:      cfg.Source,
		Purposes:        cfg.Purposes,
		Retention:       fmtDuration(cfg.Retention),
		RetentionDays:   cfg.Retention.Hours() / 24,
		Tries:           cfg.Tries,
		MinNotice:       fmtDuration(cfg.MinNotice),
		DigitTimeout:    fmtDuration(cfg.DigitTimeout),
		DefaultLanguage: cfg.Language,
		RecordingsDir:   cfg.RecordingsDir,
		DB:              cfg.DB,
		KeyFile:         cfg.KeyFile,
		Transfer:        cfg.Transfer,
		SweepSchedule:   cfg.SweepSchedule,
		OrphanGrace:     fmtDuration(cfg.OrphanGrace),
		MaxDeleteShare:  cfg.MaxDeleteShare,
	}
	for _, lang := range cfg.NoticeLangs() {
		n := cfg.Notices[lang]
		sum := n.SHA256
		if n.Err != nil {
			sum = "missing"
		}
		p.Notices = append(p.Notices, noticeJSON{Language: lang, Version: n.Version, File: n.File, InvalidFile: n.InvalidFile, SHA256: sum})
	}
	return p
}

// runPolicy prints the effective policy: the configuration, and the purposes from the database
// (opened read-only; without one, the configured purposes that will seed it).
func runPolicy(ctx context.Context, cfg *Config, opts policyOptions, out io.Writer) error {
	p := newPolicyJSON(cfg)
	ps, stored, err := storedPurposes(ctx, cfg)
	if err != nil {
		return err
	}
	p.Purposes, p.PurposeRecords, p.PurposesSource = []string{}, []purposeJSON{}, "configuration"
	if stored {
		p.PurposesSource = "store"
	}
	for _, pp := range ps {
		if pp.Active() {
			p.Purposes = append(p.Purposes, pp.Name)
		}
		p.PurposeRecords = append(p.PurposeRecords, newPurposeJSON(pp))
	}
	if opts.Output == outputJSON {
		return writeJSON(out, p)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	if p.ConfigFile == "" {
		line("config file", "none (built-in defaults)")
	} else {
		line("config file", p.ConfigFile)
	}
	line("purposes", strings.Join(p.Purposes, ", ")+" (from the "+p.PurposesSource+")")
	for _, pp := range p.PurposeRecords {
		if !stored {
			break
		}
		state := "approved by " + pp.ApprovedBy + " " + tableTime(pp.ApprovedAt) + ": " + pp.Reason
		if !pp.Active {
			state = "retired " + tableTime(*pp.RetiredAt) + " by " + pp.RetiredBy + ": " + pp.RetireReason
		}
		line("  "+pp.Name, pp.Description+"; "+state)
	}
	line("retention", fmt.Sprintf("%s (%s days)", p.Retention, fmtFloat(p.RetentionDays)))
	line("consent prompt", fmt.Sprintf("%d tries, %s digit timeout; 1 = consent, 2 = no consent", p.Tries, p.DigitTimeout))
	line("informed consent", fmt.Sprintf("a key counts only after the caller heard %s of the notice (min-notice)", p.MinNotice))
	line("default language", p.DefaultLanguage)
	line("recordings dir", p.RecordingsDir)
	line("database", p.DB)
	line("pseudonym key file", p.KeyFile)
	line("transfer target", p.Transfer)
	line("sweep schedule", p.SweepSchedule)
	line("orphan grace", p.OrphanGrace)
	line("max delete share", fmtFloat(p.MaxDeleteShare))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nnotices:")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  LANGUAGE\tVERSION\tSHA256\tFILE")
	for _, n := range p.Notices {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", n.Language, n.Version, n.SHA256, n.File)
	}
	return tw.Flush()
}
