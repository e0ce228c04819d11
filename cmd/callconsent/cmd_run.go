package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

func newRunCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: answer FreeSWITCH's calls, ask for consent, record only with it",
		Long: `Run serves FreeSWITCH's outbound socket (esl-listen): for every call FreeSWITCH hands
over it answers, plays the notice of the call's language (channel variable
callconsent_lang, default: language), collects one key (1 = consent, 2 = no consent),
commits the decision to the database, and only then, with consent, starts a stereo
recording; every call is then transferred to the employee (transfer). It keeps one
control connection to FreeSWITCH (freeswitch, password from esl-password-file), settles
calls left half-done after every reconnect, and runs the retention sweep on its schedule.

With --data-dir, a trial: the shipped notices and a random ESL password are created
below the folder if missing; pair it with 'callconsent --data-dir DIR simulate'.

The first SIGINT or SIGTERM stops taking calls and lets the running ones end their step
(a caller still at the prompt is transferred unrecorded); a second one exits at once.

` + exitCodesHelp,
		Example: `  callconsent --config /etc/callconsent/callconsent.yaml run
  callconsent --data-dir ./data run`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			return runRun(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
}

// runRun runs the daemon until ctx ends.
func runRun(ctx context.Context, cfg *Config, logs io.Writer) (err error) {
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	d := newDaemon(cfg, logger)
	if err := d.Open(ctx); err != nil {
		return err
	}
	defer closeInto(&err, d)
	<-ctx.Done()
	logger.Info("stopping: finishing the calls in progress")
	return nil
}
