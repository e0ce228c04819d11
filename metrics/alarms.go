package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Kinds of callconsent_alarms_total: each is something that must not happen, or that keeps
// the policy from being carried out until someone acts.
const (
	AlarmNotGranted       = "not-granted-audio"  // audio of a call without a grant found (and deleted)
	AlarmOrphan           = "orphan"             // a recording file without a database row found (and deleted)
	AlarmSweepGuard       = "sweep-guard"        // a clock or share guard held a sweep's deletions back
	AlarmRecordingsFolder = "recordings-folder"  // the recordings folder was missing or unreadable at a sweep
	AlarmStuckDeletion    = "stuck-deletion"     // a file due for deletion could not be deleted
	AlarmESLPeerRefused   = "esl-peer-refused"   // FreeSWITCH's port belonged to an account not allowed
	AlarmPanicRecovered   = "panic-recovered"    // a bug was hit and recovered from
	AlarmIntegrity        = "database-integrity" // the database file failed its integrity check
	AlarmAuditChain       = "audit-chain"        // the audit log failed its verification: it was tampered with
)

// AlarmKinds lists every kind, each exported from start on, at zero until it happens.
var AlarmKinds = []string{AlarmNotGranted, AlarmOrphan, AlarmSweepGuard, AlarmRecordingsFolder,
	AlarmStuckDeletion, AlarmESLPeerRefused, AlarmPanicRecovered, AlarmIntegrity, AlarmAuditChain}

// RetentionAlarms returns the counts of the kinds the retention sweeper raises, by kind
// (AlarmNotGranted, AlarmOrphan, AlarmSweepGuard, AlarmRecordingsFolder, AlarmStuckDeletion).
// The registry counts the other kinds itself.
type RetentionAlarms func() map[string]float64

// SetRetentionAlarms sets where the retention kinds of callconsent_alarms_total come from.
// Set it before the first scrape.
func (r *Registry) SetRetentionAlarms(f RetentionAlarms) { r.alarms.retention = f }

// alarmCollector exports callconsent_alarms_total from counts kept in different places: the
// sweeper's counters and the registry's own.
type alarmCollector struct {
	desc      *prometheus.Desc
	reg       *Registry
	retention RetentionAlarms
}

func (c *alarmCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *alarmCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[string]float64{}
	if c.retention != nil {
		for k, v := range c.retention() {
			counts[k] = v
		}
	}
	counts[AlarmESLPeerRefused] = counterValue(c.reg.eslPeerRefusals)
	counts[AlarmIntegrity] = counterValue(c.reg.integrityFails)
	counts[AlarmAuditChain] = counterValue(c.reg.auditChainFails)
	var panics float64
	for _, l := range Loops {
		panics += counterValue(c.reg.panics.WithLabelValues(l))
	}
	counts[AlarmPanicRecovered] = panics
	for _, kind := range AlarmKinds { // only the known kinds: the label's values are fixed
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, counts[kind], kind)
	}
}

// counterValue reads a counter's value.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
