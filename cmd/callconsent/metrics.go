package main

import (
	"context"
	"fmt"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/metrics"
	"github.com/callconsent/callconsent/retention"
)

// The daemon reports to one metrics.Registry (d.metrics): the flow's, the control
// connection's and the loops' events go to it as they happen (newFlow, Open, panics.go); the
// state of the other components is read at every scrape through the functions registered
// here. status shows the same registry (status.go); metrics-listen serves it over HTTP.

// registerGauges registers what the registry reads from the open components. It runs at the
// end of Open, when every component it reads exists, and before anything can scrape.
func (d *daemon) registerGauges(interval time.Duration) {
	r := d.metrics
	r.GaugeFunc("live_calls", "Calls in progress.", func() float64 { return float64(d.live.Len()) })
	r.GaugeFunc("freeswitch_connected", "1 while the control connection to FreeSWITCH is up: without it calls go unrecorded.",
		func() float64 { return boolFloat(d.control.Ready()) })
	r.GaugeFunc("max_calls", "Calls handled at once (max-calls); more are transferred unrecorded at once.",
		func() float64 { return float64(d.outbound.MaxCalls) })
	r.CounterFunc("calls_over_limit_total", "Calls turned away over max-calls, transferred unrecorded.",
		func() float64 { return float64(d.outbound.Overflows()) })

	r.GaugeFunc("retention_seconds", "The retention period (retention).", func() float64 { return d.cfg.Retention.Seconds() })
	r.GaugeFunc("sweep_interval_seconds", "The longest time between two scheduled sweeps (sweep-schedule).",
		func() float64 { return interval.Seconds() })
	r.GaugeFunc("recordings_held", "Recording files in the recordings folder, at the last census.",
		func() float64 { c, _ := d.holdings.snapshot(); return float64(c.Files) })
	r.GaugeFunc("recordings_held_bytes", "Bytes of the recording files, at the last census.",
		func() float64 { c, _ := d.holdings.snapshot(); return float64(c.Bytes) })
	r.GaugeFunc("recordings_oldest_age_seconds", "Age of the oldest recording file (a lower bound: from its mtime or "+
		"the end of its day folder, whichever is earlier); the retention promise is that it stays below "+
		"retention_seconds + sweep_interval_seconds. 0 without recordings.", d.holdings.oldestAge)
	r.GaugeFunc("recordings_census_timestamp_seconds", "Unix time of the last census of the recordings folder (0: none yet).",
		func() float64 { _, at := d.holdings.snapshot(); return unixFloat(at) })
	r.GaugeFunc("recordings_census_errors", "Folders or files the last census could not read: it undercounts by them.",
		func() float64 { c, _ := d.holdings.snapshot(); return float64(c.Errors) })

	m := d.sweeper.Metrics()
	for _, c := range []struct {
		name, help string
		f          func() float64
	}{
		{"sweep_runs_total", "Retention sweeps started.", load(&m.Sweeps)},
		{"sweep_deleted_files_total", "Recording files deleted by sweeps and withdrawals.", load(&m.Deleted)},
		{"sweep_deleted_bytes_total", "Bytes of the recording files deleted.", load(&m.Bytes)},
		{"sweep_errors_total", "Files that could not be deleted, folders that could not be read.", load(&m.Errors)},
		{"sweep_not_granted_total", "Audio of calls without a grant found and deleted.", load(&m.NotGranted)},
		{"sweep_guard_refusals_total", "Sweeps whose new deletions a guard held back (folder, clock, share).",
			load(&m.GuardDir, &m.GuardClockBackwards, &m.GuardClockJump, &m.GuardShare)},
		{"sweep_alarms_total", "Alarms the sweeper raised.", load(&m.Alarms)},
		{"sweep_clock_discarded_total", "Stored last-sweep times in the future discarded.", load(&m.ClockDiscarded)},
	} {
		r.CounterFunc(c.name, c.help, c.f)
	}
	r.SetRetentionAlarms(func() map[string]float64 {
		return map[string]float64{
			metrics.AlarmNotGranted:       float64(m.NotGranted.Load()),
			metrics.AlarmOrphan:           float64(m.Orphans.Load()),
			metrics.AlarmSweepGuard:       float64(m.GuardClockBackwards.Load() + m.GuardClockJump.Load() + m.GuardShare.Load()),
			metrics.AlarmRecordingsFolder: float64(m.GuardDir.Load()),
			metrics.AlarmStuckDeletion:    float64(m.Stuck.Load()),
		}
	})
	r.GaugeFunc("sweep_stuck_files", "Files due for deletion that cannot be deleted now.", func() float64 {
		for _, a := range d.sweeper.Alarms() {
			if a.Kind == retention.AlarmKindStuck {
				return float64(a.Count)
			}
		}
		return 0
	})
	r.GaugeFunc("alarms_active", "Alarms active now; callconsent status lists them.",
		func() float64 { return float64(len(d.activeAlarms())) })
	r.GaugeFunc("ready", "1 when every readiness check passes (see /readyz).", func() float64 {
		_, ok := d.readiness.Ready(context.Background())
		return boolFloat(ok)
	})
}

// openMetrics starts what watches the daemon from outside: the census of the recordings
// folder, the readiness checks, and, unless metrics-listen is empty, the HTTP listener.
func (d *daemon) openMetrics(ctx context.Context) error {
	interval, err := retention.ScheduleInterval(d.cfg.SweepSchedule)
	if err != nil {
		return invalidKey("sweep-schedule", d.cfg.SweepSchedule, err.Error())
	}
	if last, err := d.sweeper.LastSweep(ctx); err != nil {
		d.log.Warn("read the time of the last sweep failed; last_sweep_success_timestamp_seconds starts at 0", "err", err)
	} else if !last.IsZero() {
		d.metrics.SweepSucceeded(last)
	}
	d.holdings.every = interval
	if err := d.holdings.Open(ctx); err != nil {
		return err
	}
	d.closers = append(d.closers, d.holdings.Close)
	d.readiness = d.newReadiness()
	d.registerGauges(interval)
	if d.cfg.MetricsListen == "" {
		return nil
	}
	d.metricsServer = metrics.NewServer(d.cfg.MetricsListen, d.metrics, d.readiness, d.log)
	if err := d.metricsServer.Open(ctx); err != nil {
		return err
	}
	d.closers = append(d.closers, d.metricsServer.Close)
	return nil
}

// observedSweeps is the scheduler's view of the sweeper: each scheduled sweep's duration and
// success go to the registry, and a census of the folder follows it.
type observedSweeps struct{ d *daemon }

func (o observedSweeps) Sweep(ctx context.Context, opts retention.Options) (retention.Report, error) {
	rep, err := o.d.sweeper.Sweep(ctx, opts)
	o.d.metrics.SweepDone(rep.Duration, err == nil, rep.AsOf)
	o.d.holdings.Kick() // buffered: safe before the census loop runs
	return rep, err
}

// timedStore times the commits of the call flow and reconcile (store_commit_seconds), failed
// ones too: a commit that ran into its deadline is the slowest of all. The other methods pass
// through to the embedded store unchanged.
type timedStore struct {
	callStore
	m *metrics.Registry
}

func (s timedStore) time(op string, f func() error) error {
	start := time.Now()
	err := f()
	s.m.StoreCommit(op, time.Since(start))
	return err
}

func (s timedStore) StoreDecision(ctx context.Context, c *consent.Call) error {
	return s.time("decide_call", func() error { return s.callStore.StoreDecision(ctx, c) })
}

func (s timedStore) StoreGrant(ctx context.Context, c *consent.Call, r *consent.Recording) error {
	return s.time("grant", func() error { return s.callStore.StoreGrant(ctx, c, r) })
}

func (s timedStore) FinishCall(ctx context.Context, uuid string, at time.Time, end *consent.RecordingEnd) (st consent.RecordingState, err error) {
	err = s.time("end_call", func() error { st, err = s.callStore.FinishCall(ctx, uuid, at, end); return err })
	return st, err
}

func (s timedStore) DecideCall(ctx context.Context, uuid string, d consent.Decision, p *consent.Proof) error {
	return s.time("decide_call", func() error { return s.callStore.DecideCall(ctx, uuid, d, p) })
}

func (s timedStore) UpdateRecording(ctx context.Context, uuid string, to consent.RecordingState, u consent.RecordingUpdate) error {
	return s.time("update_recording", func() error { return s.callStore.UpdateRecording(ctx, uuid, to, u) })
}

func (s timedStore) EndCall(ctx context.Context, uuid string, at time.Time) error {
	return s.time("end_call", func() error { return s.callStore.EndCall(ctx, uuid, at) })
}

// load returns a function summing atomic counters, for a CounterFunc.
func load(cs ...interface{ Load() int64 }) func() float64 {
	return func() float64 {
		var n int64
		for _, c := range cs {
			n += c.Load()
		}
		return float64(n)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixFloat(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// describeMetrics is the metrics listener's address for the start-up log line, "off" without one.
func (d *daemon) describeMetrics() string {
	if d.metricsServer == nil {
		return "off"
	}
	return fmt.Sprintf("http://%s/metrics", d.metricsServer.Addr())
}
