package main

import (
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/callconsent/callconsent/consent"
)

// metrics counts what the daemon did since it started, for the IT team's monitoring
// (R-SEC-4). Counters only; no label ever carries a caller or a call.
type metrics struct {
	mu         sync.Mutex
	decisions  map[consent.Decision]uint64
	recordings map[consent.RecordingState]uint64
	refused    uint64 // calls FreeSWITCH did not know: someone posing as FreeSWITCH
	// refusedPeers counts control connections not authenticated because FreeSWITCH's port
	// belonged to an account not allowed (an alarm: someone else listened on it).
	refusedPeers uint64
}

func newMetrics() *metrics {
	return &metrics{decisions: map[consent.Decision]uint64{}, recordings: map[consent.RecordingState]uint64{}}
}

func (m *metrics) decision(d consent.Decision) {
	m.mu.Lock()
	m.decisions[d]++
	m.mu.Unlock()
}

func (m *metrics) refusedCall() {
	m.mu.Lock()
	m.refused++
	m.mu.Unlock()
}

func (m *metrics) recording(s consent.RecordingState) {
	m.mu.Lock()
	m.recordings[s]++
	m.mu.Unlock()
}

func (m *metrics) refusedESLPeer() {
	m.mu.Lock()
	m.refusedPeers++
	m.mu.Unlock()
}

// writeText writes the counters in Prometheus' text exposition format, plus the gauges given.
func (m *metrics) writeText(w io.Writer, gauges map[string]float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# TYPE callconsent_decisions_total counter")
	for _, d := range consent.Decisions {
		fmt.Fprintf(w, "callconsent_decisions_total{decision=%q} %d\n", d, m.decisions[d])
	}
	fmt.Fprintln(w, "# TYPE callconsent_recording_transitions_total counter")
	for _, s := range consent.RecordingStates {
		fmt.Fprintf(w, "callconsent_recording_transitions_total{state=%q} %d\n", s, m.recordings[s])
	}
	fmt.Fprintln(w, "# TYPE callconsent_calls_refused_total counter")
	fmt.Fprintf(w, "callconsent_calls_refused_total %d\n", m.refused)
	fmt.Fprintln(w, "# TYPE callconsent_esl_peer_refusals_total counter")
	fmt.Fprintf(w, "callconsent_esl_peer_refusals_total %d\n", m.refusedPeers)
	for _, name := range sortedKeys(gauges) {
		fmt.Fprintf(w, "# TYPE callconsent_%s gauge\ncallconsent_%s %g\n", name, name, gauges[name])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
