package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// completionShells are the shells `completion` writes scripts for, with the writer of each.
var completionShells = map[string]func(root *cobra.Command, w io.Writer) error{
	"bash": func(root *cobra.Command, w io.Writer) error { return root.GenBashCompletionV2(w, true) },
	"zsh":  func(root *cobra.Command, w io.Writer) error { return root.GenZshCompletion(w) },
	"fish": func(root *cobra.Command, w io.Writer) error { return root.GenFishCompletion(w, true) },
}

func newCompletionCommand(*globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Write the shell completion script for bash, zsh or fish",
		Long: `Completion writes a script that makes the shell complete callconsent's commands and
flags. The Debian package installs all three; by hand:

  bash: callconsent completion bash > /etc/bash_completion.d/callconsent
  zsh:  callconsent completion zsh > "${fpath[1]}/_callconsent"
  fish: callconsent completion fish > ~/.config/fish/completions/callconsent.fish

Needs no configuration.

` + exitCodesHelp,
		Example:   `  source <(callconsent completion bash)`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("%s: want 1 argument: the shell (bash, zsh or fish), got %d", subcommandPath(cmd), len(args))
			}
			if _, ok := completionShells[args[0]]; !ok {
				return fmt.Errorf("%s: %s is not a shell it writes completion for: use bash, zsh or fish", subcommandPath(cmd), quoteShort(args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompletion(cmd.Context(), cmd.Root(), args[0], cmd.OutOrStdout())
		},
	}
}

// runCompletion writes shell's completion script for the command tree under root.
func runCompletion(_ context.Context, root *cobra.Command, shell string, out io.Writer) error {
	if err := completionShells[shell](root, out); err != nil {
		return fmt.Errorf("completion %s: %w", shell, err)
	}
	return nil
}
