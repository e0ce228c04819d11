package main

import (
	"bytes"
	"time"
)

// daemonStatus is what `callconsent status` shows: health for the IT team (R-SEC-4). Counts
// only; nothing about a caller.
type daemonStatus struct {
	Ready     bool      `json:"freeswitch_connected"`
	LiveCalls int       `json:"live_calls"`
	Since     time.Time `json:"running_since"`
	Metrics   string    `json:"metrics"` // Prometheus text format
}

func (d *daemon) status() *daemonStatus {
	var buf bytes.Buffer
	gauges := map[string]float64{"live_calls": float64(d.live.Len()), "freeswitch_connected": 0}
	if d.control.Ready() {
		gauges["freeswitch_connected"] = 1
	}
	if d.sweeper != nil {
		m := d.sweeper.Metrics()
		gauges["sweep_runs_total"] = float64(m.Sweeps.Load())
		gauges["sweep_deleted_files_total"] = float64(m.Deleted.Load())
		gauges["sweep_deleted_bytes_total"] = float64(m.Bytes.Load())
		gauges["sweep_errors_total"] = float64(m.Errors.Load())
		gauges["sweep_not_granted_total"] = float64(m.NotGranted.Load())
		gauges["sweep_guard_refusals_total"] = float64(m.GuardDir.Load() + m.GuardClockBackwards.Load() + m.GuardClockJump.Load() + m.GuardShare.Load())
	}
	d.metrics.writeText(&buf, gauges)
	return &daemonStatus{Ready: d.control.Ready(), LiveCalls: d.live.Len(), Since: d.started, Metrics: buf.String()}
}
