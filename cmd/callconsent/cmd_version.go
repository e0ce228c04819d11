package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at release builds: go build -ldflags "-X main.version=1.2.3". Without it the
// module version from the build info is shown.
var version = ""

func newVersionCommand(*globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and Go version",
		Long: `Print the version of callconsent, the VCS commit it was built from (when known)
and the Go version. Needs no configuration.

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.Context(), cmd.OutOrStdout())
		},
	}
}

// buildVersion returns the version and the commit (with "+dirty" for a modified tree) as
// recorded in the binary. The commit is empty when built with -buildvcs=false.
func buildVersion() (v, commit string) {
	v = version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return dash(v), ""
	}
	if v == "" {
		v = bi.Main.Version
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if commit != "" && modified {
		commit += "+dirty"
	}
	return dash(v), commit
}

// runVersion prints the version lines.
func runVersion(_ context.Context, out io.Writer) error {
	v, commit := buildVersion()
	fmt.Fprintf(out, "callconsent %s\n", v)
	if commit != "" {
		fmt.Fprintf(out, "commit %s\n", commit)
	}
	_, err := fmt.Fprintf(out, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
