package main

import (
	"bytes"

	"github.com/callconsent/callconsent/control"
	"github.com/callconsent/callconsent/retention"
)

// Status is the daemon's health for `callconsent status` (R-SEC-4), from the counters of
// every component; the control socket answers it.
func (d *daemon) Status() *control.Status {
	var buf bytes.Buffer
	gauges := map[string]float64{"live_calls": float64(d.live.Len()), "freeswitch_connected": 0}
	alarms := []retention.Alarm{}
	if d.control.Ready() {
		gauges["freeswitch_connected"] = 1
	}
	if d.outbound != nil { // calls turned away over max-calls, and max-calls itself
		gauges["calls_over_limit_total"], gauges["max_calls"] = float64(d.outbound.Overflows()), float64(d.outbound.MaxCalls)
	}
	if d.sweeper != nil {
		m := d.sweeper.Metrics()
		gauges["sweep_runs_total"] = float64(m.Sweeps.Load())
		gauges["sweep_deleted_files_total"] = float64(m.Deleted.Load())
		gauges["sweep_deleted_bytes_total"] = float64(m.Bytes.Load())
		gauges["sweep_errors_total"] = float64(m.Errors.Load())
		gauges["sweep_not_granted_total"] = float64(m.NotGranted.Load())
		gauges["sweep_guard_refusals_total"] = float64(m.GuardDir.Load() + m.GuardClockBackwards.Load() + m.GuardClockJump.Load() + m.GuardShare.Load())
		gauges["sweep_alarms_total"] = float64(m.Alarms.Load())
		gauges["sweep_clock_discarded_total"] = float64(m.ClockDiscarded.Load())
		alarms = d.sweeper.Alarms()
		stuck := 0
		for _, a := range alarms {
			if a.Kind == retention.AlarmKindStuck {
				stuck = a.Count
			}
		}
		gauges["sweep_stuck_files"] = float64(stuck)
	}
	if a, ok := d.panics.alarm(); ok {
		alarms = append(alarms, a)
	}
	if a, ok := d.integrity.Alarm(); ok {
		alarms = append(alarms, a)
	}
	gauges["alarms_active"] = float64(len(alarms))
	d.metrics.writeText(&buf, gauges)
	d.panics.writeText(&buf)
	decisions, recordings, counters := d.metrics.counts()
	for name, v := range gauges {
		counters[name] = v
	}
	for name, v := range d.panics.counts() {
		counters[name] = v
	}
	return &control.Status{Ready: d.control.Ready(), LiveCalls: d.live.Len(), Since: d.started, Alarms: alarms, Metrics: buf.String(),
		Decisions: decisions, RecordingTransitions: recordings, Counters: counters}
}
