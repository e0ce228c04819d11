package metrics

import (
	"fmt"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// Flat is callconsent's metrics as numbers by name, for `status --output json`: the name
// without the callconsent_ prefix, followed by its labels as in the text format
// (panics_recovered_total{loop="call"}). A histogram gives its _count and _sum; its buckets
// are on /metrics only.
type Flat map[string]float64

// Flatten gathers callconsent's own metrics into a Flat.
func (r *Registry) Flatten() (Flat, error) {
	mfs, err := r.Families()
	out := Flat{}
	for _, mf := range mfs {
		name := strings.TrimPrefix(mf.GetName(), Namespace+"_")
		for _, m := range mf.GetMetric() {
			labels := labelText(m.GetLabel())
			switch {
			case m.Counter != nil:
				out[name+labels] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[name+labels] = m.GetGauge().GetValue()
			case m.Untyped != nil:
				out[name+labels] = m.GetUntyped().GetValue()
			case m.Histogram != nil:
				out[name+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
				out[name+"_sum"+labels] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out, err
}

// ByLabel returns the samples of the metric name with exactly one label, by that label's
// value: ByLabel("decisions_total", "decision") gives {"granted": 3, ...}.
func (f Flat) ByLabel(name, label string) map[string]float64 {
	out := map[string]float64{}
	prefix := name + "{" + label + "=\""
	for k, v := range f {
		if value, ok := strings.CutPrefix(k, prefix); ok && strings.HasSuffix(value, "\"}") && !strings.Contains(value, ",") {
			out[strings.TrimSuffix(value, "\"}")] = v
		}
	}
	return out
}

func labelText(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	return "{" + strings.Join(parts, ",") + "}"
}
