// Package metrics exports what callconsent does to the IT team's monitoring (policy §8,
// R-SEC-4): a Prometheus registry of counters, histograms and gauges (Registry), and a small
// HTTP server for it with /metrics, /healthz and /readyz (Server). It wraps
// github.com/prometheus/client_golang; the daemon in cmd/ feeds it.
//
// No label ever carries a call UUID, a caller or any other value from outside: every label has
// a fixed set of values (decisions, recording states, loops, store operations, alarm kinds), so
// the number of series is bounded whatever peers send.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Namespace prefixes every callconsent metric.
const Namespace = "callconsent"

// Bucket bounds in seconds. A commit is an fsync (milliseconds on a healthy disk); a sweep
// walks and deletes (seconds to minutes); an unlink is a system call.
var (
	latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	sweepBuckets   = []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900}
	unlinkBuckets  = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1}
)

// Registry holds callconsent's metrics on a registry of its own (not the global one, so that
// tests and a second daemon in one process do not share counters). Create it with New; its
// methods are safe for concurrent use.
type Registry struct {
	reg *prometheus.Registry

	decisions       *prometheus.CounterVec
	transitions     *prometheus.CounterVec
	callsRefused    prometheus.Counter
	eslPeerRefusals prometheus.Counter
	integrityFails  prometheus.Counter
	auditChainFails prometheus.Counter
	panics          *prometheus.CounterVec
	digitToRecord   prometheus.Histogram
	storeCommit     *prometheus.HistogramVec
	sweepDuration   prometheus.Histogram
	unlink          prometheus.Histogram
	lastSweepOK     atomic.Int64 // unix nanoseconds of the last successful sweep; 0: none known
	alarms          *alarmCollector
}

// New returns a Registry with every event metric registered at zero for each of its label
// values, plus the Go runtime and process collectors (process_start_time_seconds and the
// like, shown on /metrics only).
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "decisions_total",
		Help: "Consent decisions taken since start, by decision."}, []string{"decision"})
	r.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "recording_transitions_total",
		Help: "Recordings entering each state since start."}, []string{"state"})
	r.callsRefused = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "calls_refused_total",
		Help: "Calls handed over on our port that FreeSWITCH does not have: someone posing as FreeSWITCH."})
	r.eslPeerRefusals = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "esl_peer_refusals_total",
		Help: "Control connections not authenticated: FreeSWITCH's port belonged to an account not allowed."})
	r.integrityFails = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "database_integrity_failures_total",
		Help: "Scheduled integrity checks of the database file that failed (quick_check found damage)."})
	r.auditChainFails = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "audit_chain_failures_total",
		Help: "Verifications of the audit log that found it tampered with (or could not read it)."})
	r.panics = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "panics_recovered_total",
		Help: "Panics recovered per item, by the loop they happened in."}, []string{"loop"})
	r.digitToRecord = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "digit_to_record_session_seconds",
		Help: "Time from the caller's consent key to record_session sent (the grant's commit lies in between).", Buckets: latencyBuckets})
	r.storeCommit = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "store_commit_seconds",
		Help: "Time of the call flow's database commits, by operation.", Buckets: latencyBuckets}, []string{"op"})
	r.sweepDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "sweep_duration_seconds",
		Help: "Duration of the scheduled retention sweeps.", Buckets: sweepBuckets})
	r.unlink = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "file_deletion_seconds",
		Help: "Time to delete one recording file (stat and unlink in its folder), by sweeps and withdrawals.", Buckets: unlinkBuckets})
	r.alarms = &alarmCollector{desc: prometheus.NewDesc(Namespace+"_alarms_total",
		"Alarms raised since start, by kind (see the README's monitoring section).", []string{"kind"}, nil), reg: r}
	r.reg.MustRegister(r.decisions, r.transitions, r.callsRefused, r.eslPeerRefusals, r.integrityFails, r.auditChainFails, r.panics, r.digitToRecord,
		r.storeCommit, r.sweepDuration, r.unlink, r.alarms,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.GaugeFunc("last_sweep_success_timestamp_seconds", "Unix time of the last retention sweep that did everything due "+
		"(0: none since the database was made).", func() float64 { return unixSeconds(r.lastSweepOK.Load()) })
	for _, d := range consent.Decisions {
		r.decisions.WithLabelValues(string(d))
	}
	for _, s := range consent.RecordingStates {
		r.transitions.WithLabelValues(string(s))
	}
	for _, l := range Loops {
		r.panics.WithLabelValues(l)
	}
	for _, op := range StoreOps {
		r.storeCommit.WithLabelValues(op)
	}
	return r
}

// Loops are the daemon's loops that recover from a panic per item and go on.
var Loops = []string{"call", "control-socket", "reconcile", "sweep", "integrity-check", "audit-check"}

// StoreOps are the commits of the call flow and reconcile timed in store_commit_seconds: a
// call's row with its decision (decide_call, or grant with its recording), its end with the
// recording's final state (end_call), and reconcile's steps (decide_call, update_recording,
// end_call).
var StoreOps = []string{"decide_call", "grant", "update_recording", "end_call"}

// Decision counts a consent decision. A value outside consent.Decisions is not counted: a
// label must not take values from anywhere else.
func (r *Registry) Decision(d consent.Decision) {
	if slices.Contains(consent.Decisions, d) {
		r.decisions.WithLabelValues(string(d)).Inc()
	}
}

// RecordingTransition counts a recording entering state s.
func (r *Registry) RecordingTransition(s consent.RecordingState) {
	if slices.Contains(consent.RecordingStates, s) {
		r.transitions.WithLabelValues(string(s)).Inc()
	}
}

// CallRefused counts a call FreeSWITCH did not know.
func (r *Registry) CallRefused() { r.callsRefused.Inc() }

// ESLPeerRefused counts a refused control-connection peer; it is an alarm too.
func (r *Registry) ESLPeerRefused() { r.eslPeerRefusals.Inc() }

// AuditChainFailed counts a failed verification of the audit log; it is an alarm too.
func (r *Registry) AuditChainFailed() { r.auditChainFails.Inc() }

// IntegrityFailed counts a failed integrity check of the database; it is an alarm too.
func (r *Registry) IntegrityFailed() { r.integrityFails.Inc() }

// PanicRecovered counts a panic recovered in loop (one of Loops); it is an alarm too.
func (r *Registry) PanicRecovered(loop string) {
	if slices.Contains(Loops, loop) {
		r.panics.WithLabelValues(loop).Inc()
	}
}

// DigitToRecord observes the time from a caller's consent key to record_session.
func (r *Registry) DigitToRecord(d time.Duration) { r.digitToRecord.Observe(d.Seconds()) }

// StoreCommit observes one commit of the call flow; op is one of StoreOps.
func (r *Registry) StoreCommit(op string, d time.Duration) {
	if slices.Contains(StoreOps, op) {
		r.storeCommit.WithLabelValues(op).Observe(d.Seconds())
	}
}

// SweepDone observes a scheduled sweep's duration; a sweep that did everything due (ok) at
// `at` moves last_sweep_success_timestamp_seconds.
func (r *Registry) SweepDone(d time.Duration, ok bool, at time.Time) {
	r.sweepDuration.Observe(d.Seconds())
	if ok {
		r.SweepSucceeded(at)
	}
}

// SweepSucceeded sets the time of the last successful sweep, unless a later one is known.
func (r *Registry) SweepSucceeded(at time.Time) {
	n := at.UnixNano()
	for {
		old := r.lastSweepOK.Load()
		if old >= n || r.lastSweepOK.CompareAndSwap(old, n) {
			return
		}
	}
}

// FileDeleted observes the deletion of one recording file.
func (r *Registry) FileDeleted(d time.Duration) { r.unlink.Observe(d.Seconds()) }

// GaugeFunc registers callconsent_<name> as a gauge read from f at every scrape; f must be
// fast and safe for concurrent use.
func (r *Registry) GaugeFunc(name, help string, f func() float64) {
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, f))
}

// CounterFunc registers callconsent_<name> as a counter read from f, which must only grow.
func (r *Registry) CounterFunc(name, help string, f func() float64) {
	r.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, f))
}

// Gatherer is the registry for an HTTP handler or a test.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Families returns callconsent's own metric families (not the Go runtime's or the process's),
// sorted by name.
func (r *Registry) Families() ([]*dto.MetricFamily, error) {
	all, err := r.reg.Gather()
	out := all[:0]
	for _, mf := range all {
		if strings.HasPrefix(mf.GetName(), Namespace+"_") {
			out = append(out, mf)
		}
	}
	return out, err
}

// Text returns callconsent's own metrics in Prometheus' text format, as `status` prints them
// (fit for a node-exporter textfile collector, which has Go and process metrics of its own).
func (r *Registry) Text() (string, error) {
	mfs, err := r.Families()
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, werr := expfmt.MetricFamilyToText(&buf, mf); werr != nil && err == nil {
			err = werr
		}
	}
	return buf.String(), err
}

// WriteText writes Text to w.
func (r *Registry) WriteText(w io.Writer) error {
	s, err := r.Text()
	if _, werr := io.WriteString(w, s); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

func unixSeconds(nanos int64) float64 {
	if nanos == 0 {
		return 0
	}
	return float64(nanos) / 1e9
}
