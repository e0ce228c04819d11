package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

func newRunCommand(g *globalOptions) *cobra.Command {
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: answer FreeSWITCH's calls, ask for consent, record only with it",
		Long: `Run serves FreeSWITCH's outbound socket (esl-listen): for every call FreeSWITCH hands
over it answers, plays the notice of the call's language (channel variable
callconsent_lang, default: language), collects one key (1 = consent, 2 = no consent),
commits the decision to the database, and only then, with consent, starts a stereo
recording; every call is then transferred to the employee (transfer). It keeps one
control connection to FreeSWITCH (freeswitch, password from esl-password-file), settles
calls left half-done after every reconnect, and runs the retention sweep on its schedule.
It serves the web console for line managers and the security officer on web-listen
(default http://127.0.0.1:8085/; "" turns it off; TLS with web-cert and web-key).

With --data-dir, a trial: the shipped notices and a random ESL password are created
below the folder if missing; pair it with 'callconsent --data-dir DIR simulate'.

The first SIGINT or SIGTERM stops taking calls and lets the running ones end their step
(a caller still at the prompt is transferred unrecorded); a second one exits at once.

Under systemd (Type=notify) it sends READY=1 once the database, the notices and its
listeners are up, WATCHDOG=1 every half WatchdogSec while it works, and STOPPING=1.

` + exitCodesHelp,
		Example: `  callconsent --config /etc/callconsent/callconsent.yaml run
  callconsent --data-dir ./data run`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return runRun(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to `file` (for benchmarks)")
	cmd.Flags().MarkHidden("cpuprofile")
	return cmd
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// runRun runs the daemon until ctx ends.
func runRun(ctx context.Context, cfg *Config, logs io.Writer) (err error) {
	logger := newLogger(cfg, logs)
	d := newDaemon(cfg, logger)
	if err := d.Open(ctx); err != nil {
		return err
	}
	defer closeInto(&err, d)
	// The store, the notices and every listener are up: systemd may start what needs us.
	sd := newSystemdNotifier(logger)
	sd.notify("READY=1")
	sd.mainLoop(ctx, d.alive)
	sd.notify("STOPPING=1")
	logger.Info("stopping: finishing the calls in progress")
	return nil
}
