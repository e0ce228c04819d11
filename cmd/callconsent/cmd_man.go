package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// manOptions are the flags of `callconsent man`.
type manOptions struct {
	Dir string
}

// AddFlags registers --dir.
func (o *manOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Dir, "dir", "", "write the pages into `folder` (created if missing)")
}

func newManCommand(*globalOptions) *cobra.Command {
	var opts manOptions
	cmd := &cobra.Command{
		Use:   "man --dir FOLDER",
		Short: "Write the manual pages of every command (section 1) into a folder",
		Long: `Man writes one roff manual page per command, callconsent.1, callconsent-run.1,
callconsent-calls-list.1 and so on, generated from the same help texts as --help. The
Debian package installs them in /usr/share/man/man1. The pages are dated by
SOURCE_DATE_EPOCH when it is set (reproducible builds), else by today.

Needs no configuration.

` + exitCodesHelp,
		Example: `  callconsent man --dir ./man && man ./man/callconsent-status.1`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMan(cmd.Context(), cmd.Root(), opts)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// runMan writes the manual pages of the tree under root into opts.Dir.
func runMan(_ context.Context, root *cobra.Command, opts manOptions) error {
	if opts.Dir == "" {
		return invalidf("man: --dir is required: the folder to write the pages into, e.g. --dir ./man")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return fmt.Errorf("man: %w", err)
	}
	header := &doc.GenManHeader{Title: "CALLCONSENT", Section: "1", Source: "callconsent", Manual: "callconsent manual"}
	if err := doc.GenManTree(root, header, opts.Dir); err != nil {
		return fmt.Errorf("man: %w", err)
	}
	return nil
}
