package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/callconsent/callconsent/consent"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// subcommands are the constructors of callconsent's top-level commands. A new command is one
// file cmd_x.go with newXCommand and one line here.
var subcommands = []func(g *globalOptions) *cobra.Command{
	newCallsCommand,
	newPolicyCommand,
	newConfigCommand,
	newVersionCommand,
	newRunCommand,
	newSimulateCommand,
	newWithdrawCommand,
	newDSARCommand,
	newExportCommand,
	newSweepCommand,
	newStatusCommand,
	newCompletionCommand,
	newManCommand,
	newUsersCommand,
	newGrantsCommand,
	newPurposesCommand,
	newAuditCommand,
	newSearchCommand,
	newListenCommand,
}

// exitCodesHelp is shown in the root help and referenced from every command's help.
const exitCodesHelp = `Exit codes:
  0    success
  1    runtime or internal error (database, disk, FreeSWITCH)
  2    usage or configuration error: bad flag, argument or config value
  3    not found (e.g. no call with that UUID)
  4    conflict or partial failure (e.g. some deletions failed); refused: access denied or login failed
  5    status: an alarm is active; audit verify: the audit log does not verify
  130  interrupted by a signal before finishing (run exits 0 after a clean stop)`

// configFlagsNote follows the flags in every command's help, in place of one flag per
// configuration key, which would bury the command's own flags.
const configFlagsNote = `{{if ne .CommandPath "callconsent config"}}

Configuration flags:
  Every configuration key is also a flag of every command (flag > file > default),
  e.g. --db file, --retention duration, --log-level level.
  All keys, their defaults and meaning: callconsent help config{{end}}`

// globalOptions are the root command's persistent flags and the state shared by all commands.
type globalOptions struct {
	ConfigFile string
	DataDir    string

	// started is set once cobra has parsed flags and arguments and runs a command; an error
	// before that is a usage error.
	started bool
	cfg     *Config
}

// AddFlags registers the global flags, including one flag per configuration key.
func (g *globalOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&g.ConfigFile, "config", DefaultConfigPath, "configuration `file` (YAML); a missing file at the default path means defaults")
	fs.StringVar(&g.DataDir, "data-dir", "", "keep database, key, recordings, notices and control socket below `folder` (unless set explicitly)")
	AddConfigFlags(fs)
}

// Config loads the configuration once per process: file, then flags, then --data-dir.
func (g *globalOptions) Config(cmd *cobra.Command) (*Config, error) {
	if g.cfg != nil {
		return g.cfg, nil
	}
	cfg, err := LoadConfig(g.ConfigFile, cmd.Flags().Changed("config"), cmd.Flags())
	if err != nil {
		return nil, err
	}
	g.cfg = cfg
	return cfg, nil
}

// newRootCommand builds the command tree. Commands load the configuration themselves (through
// g.Config) rather than in a pre-run hook, so that --help and version work with a broken file.
func newRootCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "callconsent",
		Short: "Consent-to-recording sidecar for FreeSWITCH",
		Long: `callconsent asks every inbound caller for consent to recording (press 1 = yes,
2 = no), stores the decision durably before any recording starts, records only with
consent, and deletes recordings after the retention period or when consent is withdrawn.

Configuration comes from one YAML file (--config); every key has a flag of the same
name, and flags win over the file, which wins over the built-in defaults.

` + exitCodesHelp,
		Example: `  callconsent --data-dir ./data calls list
  callconsent policy --output json
  callconsent --config /etc/callconsent/callconsent.yaml config check`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		// cmd_completion.go has our own completion command, with help and exit codes like the rest.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	g.AddFlags(cmd.PersistentFlags())
	for _, s := range settings {
		cmd.PersistentFlags().Lookup(s.key).Hidden = true // listed by 'callconsent help config'
	}
	cmd.SetUsageTemplate(strings.Replace(cmd.UsageTemplate(), "{{if .HasHelpSubCommands}}", configFlagsNote+"{{if .HasHelpSubCommands}}", 1))
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		err = flagValueError(err)
		if !c.HasParent() {
			return err
		}
		return fmt.Errorf("%s: %w", subcommandPath(c), err)
	})
	for _, newCmd := range subcommands {
		cmd.AddCommand(newCmd(g))
	}
	markStarted(cmd, g)
	return cmd
}

// markStarted wraps the run hooks of every command so that g.started is set once cobra has
// accepted the flags and arguments and hands over to the command. Wrapping each command,
// rather than one root PersistentPreRunE, keeps working when a command adds its own
// persistent hook (cobra runs only the nearest one). Commands use the E variants of the hooks
// (RunE, PreRunE); Run is converted, PreRun and PersistentPreRun are not.
func markStarted(cmd *cobra.Command, g *globalOptions) {
	wrap := func(f func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, args []string) error {
			g.started = true
			return f(c, args)
		}
	}
	if f := cmd.PersistentPreRunE; f != nil {
		cmd.PersistentPreRunE = wrap(f)
	}
	if f := cmd.PreRunE; f != nil {
		cmd.PreRunE = wrap(f)
	}
	if f := cmd.RunE; f != nil {
		cmd.RunE = wrap(f)
	}
	if f := cmd.Run; f != nil {
		cmd.Run, cmd.RunE = nil, wrap(func(c *cobra.Command, args []string) error { f(c, args); return nil })
	}
	for _, sub := range cmd.Commands() {
		markStarted(sub, g)
	}
}

// newGroupCommand returns a command that only groups subcommands. Run without one it prints
// its help; with an unknown one it fails as a usage error instead of silently printing help.
func newGroupCommand(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(subs...)
	return cmd
}

// flagValueError rewrites pflag's "invalid argument" error in the words of a configuration
// error: the flag, the value and what is wrong with it, without the Go parser's text
// ("strconv.ParseInt: parsing ..."), which tells an operator nothing.
func flagValueError(err error) error {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) {
		return err
	}
	f, v := ive.GetFlag(), ive.GetValue()
	problem := errors.Unwrap(ive).Error()
	var num *strconv.NumError
	switch {
	case errors.As(ive, &num) && errors.Is(num.Err, strconv.ErrRange):
		problem = "is out of range"
	case errors.As(ive, &num) && f.Value.Type() == "bool":
		problem = "is not true or false"
	case errors.As(ive, &num) && strings.HasPrefix(f.Value.Type(), "float"):
		problem = "is not a number"
	case errors.As(ive, &num):
		problem = "is not a whole number"
	case f.Value.Type() == "duration":
		problem = durationProblem(v, "s")
	}
	return fmt.Errorf("--%s: %s %s", f.Name, quoteShort(v), problem)
}

// exactArgs is cobra.ExactArgs with a message that says what the argument is.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return fmt.Errorf("%s: want %d argument(s): %s, got %d", subcommandPath(cmd), len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// subcommandPath is the command path without the program name, which every error line
// already starts with.
func subcommandPath(c *cobra.Command) string {
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// invalidf is a usage error found while a command runs (exit code 2).
func invalidf(format string, args ...any) error {
	return consent.Errorf(consent.EINVALID, format, args...)
}
