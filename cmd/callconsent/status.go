package main

import (
	"strings"

	"github.com/callconsent/callconsent/control"
	"github.com/callconsent/callconsent/retention"
)

// Status is the daemon's health for `callconsent status` (R-SEC-4), from the same registry as
// /metrics; the control socket answers it. Metrics is callconsent's own families in
// Prometheus' text format; Decisions, RecordingTransitions and Counters are the same samples
// by name (metrics.Flat): status --output json's documented fields.
func (d *daemon) Status() *control.Status {
	st := &control.Status{Ready: d.control.Ready(), LiveCalls: d.live.Len(), Since: d.started, Alarms: d.activeAlarms()}
	text, err := d.metrics.Text()
	if err != nil {
		d.log.Error("status: gather metrics failed", "err", err)
	}
	flat, _ := d.metrics.Flatten()
	st.Metrics = text
	st.Decisions = wholeCounts(flat.ByLabel("decisions_total", "decision"))
	st.RecordingTransitions = wholeCounts(flat.ByLabel("recording_transitions_total", "state"))
	st.Counters = map[string]float64{}
	for name, v := range flat {
		if !strings.HasPrefix(name, "decisions_total{") && !strings.HasPrefix(name, "recording_transitions_total{") {
			st.Counters[name] = v
		}
	}
	return st
}

// activeAlarms are the alarms status lists and exits 5 on: the sweeper's, recovered panics and a failed database
// integrity check.
func (d *daemon) activeAlarms() []retention.Alarm {
	alarms := []retention.Alarm{}
	if d.sweeper != nil {
		alarms = append(alarms, d.sweeper.Alarms()...)
	}
	if a, ok := d.panics.alarm(); ok {
		alarms = append(alarms, a)
	}
	if a, ok := d.integrity.Alarm(); ok {
		alarms = append(alarms, a)
	}
	if a, ok := d.auditCheck.Alarm(); ok {
		alarms = append(alarms, a)
	}
	return alarms
}

func wholeCounts(m map[string]float64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = uint64(v)
	}
	return out
}
