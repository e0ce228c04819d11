package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/control"
	"github.com/callconsent/callconsent/retention"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// statusOptions are the flags of `callconsent status`.
type statusOptions struct {
	Output outputFormat
}

// AddFlags registers --output.
func (o *statusOptions) AddFlags(fs *pflag.FlagSet) { addOutputFlag(fs, &o.Output) }

func newStatusCommand(g *globalOptions) *cobra.Command {
	var opts statusOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Health of the running daemon: FreeSWITCH connection, live calls, counters",
		Long: `Status asks the running daemon over its control socket for its health (R-SEC-4): whether
the control connection to FreeSWITCH is up, how many calls are in progress, and counters
since start (decisions, recording transitions, retention sweeps, deletions, alarms) in
Prometheus' text format, ready for a node-exporter textfile collector. No caller data.
--output json gives the same as fields: freeswitch_connected, live_calls, running_since,
uptime_seconds, alarms, decisions (by decision), recording_transitions (by state) and
counters (every other counter and gauge by name, e.g. calls_refused_total).

It also lists the active alarms: files due for deletion that cannot be deleted (with
their paths), a guard (clock, share) holding sweeps back, a missing recordings folder
(each stays active until a sweep finds it resolved), recovered panics (a bug was hit;
see the log; active until a restart), and a database file that failed the daemon's daily
integrity check (restore it from a backup; active until a check passes).

It exits 1 when no daemon runs or it does not answer within 5 s, 5 when an alarm is active
(e.g. recordings the policy says must go are not being deleted), and 4 when the daemon runs
but is not connected to FreeSWITCH (calls then take the dialplan's unrecorded fallback); 5
wins over 4. Usable as a health check.

` + exitCodesHelp,
		Example: `  callconsent status
  callconsent status --output json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			return runStatus(cmd.Context(), cfg, opts, cmd.OutOrStdout())
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

func runStatus(ctx context.Context, cfg *Config, opts statusOptions, out io.Writer) error {
	st, err := control.Client{Path: cfg.ControlSocket}.Status(ctx)
	if errors.Is(err, control.ErrNoDaemon) {
		return fmt.Errorf("status: %w (control socket %s)", control.ErrNoDaemon, cfg.ControlSocket)
	} else if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if opts.Output == outputJSON {
		err = writeJSON(out, newStatusJSON(st, time.Now()))
	} else {
		state := "connected"
		if !st.Ready {
			state = "NOT connected (calls take the dialplan's unrecorded fallback)"
		}
		fmt.Fprintf(out, "freeswitch: %s\nlive calls: %d\nrunning since: %s (%s)\n", state, st.LiveCalls,
			st.Since.Format(time.RFC3339), time.Since(st.Since).Round(time.Second))
		writeAlarmsText(out, st.Alarms)
		fmt.Fprintf(out, "\n%s", st.Metrics)
	}
	switch {
	case err != nil:
	case len(st.Alarms) > 0:
		kinds := make([]string, len(st.Alarms))
		for i, a := range st.Alarms {
			kinds[i] = a.Kind
		}
		err = &alarmError{fmt.Sprintf("status: %d alarm(s) active: %s", len(st.Alarms), strings.Join(kinds, ", "))}
	case !st.Ready:
		err = consent.Errorf(consent.ECONFLICT, "status: daemon not connected to FreeSWITCH")
	}
	return err
}

func writeAlarmsText(w io.Writer, alarms []retention.Alarm) {
	if len(alarms) == 0 {
		fmt.Fprintln(w, "alarms: none")
		return
	}
	for _, a := range alarms {
		fmt.Fprintf(w, "ALARM %s since %s: %s\n", a.Kind, a.Since.Format(time.RFC3339), a.Message)
		for _, f := range a.Files {
			fmt.Fprintf(w, "  %s\n", f)
		}
		if a.Count > len(a.Files) {
			fmt.Fprintf(w, "  and %d more\n", a.Count-len(a.Files))
		}
	}
}

// statusJSON is status --output json: the daemon's health as fields a script can read, the
// counters by name (the same numbers as the Prometheus text of the table output). Its field
// names are a contract, documented in the README.
type statusJSON struct {
	FreeSWITCHConnected bool      `json:"freeswitch_connected"`
	LiveCalls           int       `json:"live_calls"`
	RunningSince        time.Time `json:"running_since"`
	UptimeSeconds       int64     `json:"uptime_seconds"`
	// Alarms are the active alarms (retention, recovered panics); [] when there are none.
	Alarms []retention.Alarm `json:"alarms"`
	// Decisions counts the decisions taken since start, by decision (every decision present).
	Decisions map[string]uint64 `json:"decisions"`
	// RecordingTransitions counts recordings entering each state since start, by state.
	RecordingTransitions map[string]uint64 `json:"recording_transitions"`
	// Counters are the other counters and gauges, by their Prometheus name without the
	// callconsent_ prefix: calls_refused_total, esl_peer_refusals_total, sweep_runs_total, ...
	Counters map[string]float64 `json:"counters"`
}

func newStatusJSON(st *control.Status, now time.Time) statusJSON {
	v := statusJSON{FreeSWITCHConnected: st.Ready, LiveCalls: st.LiveCalls, RunningSince: st.Since.UTC(),
		UptimeSeconds: int64(now.Sub(st.Since).Seconds()), Alarms: st.Alarms,
		Decisions: st.Decisions, RecordingTransitions: st.RecordingTransitions, Counters: st.Counters}
	// Never null, so that a script can index them without a check.
	if v.Alarms == nil {
		v.Alarms = []retention.Alarm{}
	}
	if v.Decisions == nil {
		v.Decisions = map[string]uint64{}
	}
	if v.RecordingTransitions == nil {
		v.RecordingTransitions = map[string]uint64{}
	}
	if v.Counters == nil {
		v.Counters = map[string]float64{}
	}
	return v
}

// alarmError is what status returns while an alarm is active: main maps it to
// exitAlarm, so that a health check tells it from a daemon that is down or disconnected.
type alarmError struct{ msg string }

func (e *alarmError) Error() string { return e.msg }
