package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/control"
	"github.com/callconsent/callconsent/esl/fakefs"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestStatus(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}})
	h.finalCall(res.UUID)
	var out bytes.Buffer
	if err := runStatus(h.ctx, h.cfg, statusOptions{}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"freeswitch: connected", "live calls: 0", `callconsent_decisions_total{decision="declined"} 1`, "callconsent_freeswitch_connected 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	h.fs.Close() // FreeSWITCH gone: unhealthy, exit 4
	h.waitFor("control down", func() bool { return !h.d.control.Ready() })
	if err := runStatus(h.ctx, h.cfg, statusOptions{}, &out); consent.ErrorCode(err) != consent.ECONFLICT {
		t.Errorf("status without FreeSWITCH: %v, want conflict", err)
	}
	h.d.Close()
	if err := runStatus(h.ctx, h.cfg, statusOptions{}, &out); !errors.Is(err, control.ErrNoDaemon) {
		t.Errorf("status without a daemon: %v", err)
	}
}

// TestStatus_JSON: status --output json gives real fields, not Prometheus text in a string,
// and every sample of the Prometheus text is in it under its name, with the same value.
func TestStatus_JSON(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}})
	h.finalCall(res.UUID)
	var out bytes.Buffer
	if err := runStatus(h.ctx, h.cfg, statusOptions{Output: outputJSON}, &out); err != nil {
		t.Fatal(err)
	}
	var st struct {
		FreeSWITCHConnected  *bool              `json:"freeswitch_connected"`
		LiveCalls            *int               `json:"live_calls"`
		RunningSince         time.Time          `json:"running_since"`
		UptimeSeconds        *int64             `json:"uptime_seconds"`
		Alarms               []json.RawMessage  `json:"alarms"`
		Decisions            map[string]float64 `json:"decisions"`
		RecordingTransitions map[string]float64 `json:"recording_transitions"`
		Counters             map[string]float64 `json:"counters"`
		Metrics              any                `json:"metrics"`
	}
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	switch {
	case st.FreeSWITCHConnected == nil || !*st.FreeSWITCHConnected, st.LiveCalls == nil || *st.LiveCalls != 0,
		st.RunningSince.IsZero(), st.UptimeSeconds == nil, st.Alarms == nil || len(st.Alarms) != 0,
		st.Decisions["declined"] != 1, st.Counters["calls_refused_total"] != 0, st.Metrics != nil:
		t.Fatalf("status JSON:\n%s", out.String())
	}
	// Every sample of the Prometheus text, by name (and label), in the JSON: counters and
	// gauges as they are, histograms by their _count and _sum.
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(h.d.Status().Metrics))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, mf := range mfs {
		if (mf.GetType() == dto.MetricType_COUNTER) != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %v: counters, and only counters, end in _total", name, mf.GetType())
		}
		name = strings.TrimPrefix(name, "callconsent_")
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			lt := ""
			if len(labels) > 0 {
				lt = "{" + strings.Join(labels, ",") + "}"
			}
			want := map[string]float64{}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				want[name+lt] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				want[name+lt] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				want[name+"_count"+lt] = float64(m.GetHistogram().GetSampleCount())
				want[name+"_sum"+lt] = m.GetHistogram().GetSampleSum()
			default:
				t.Errorf("%s: type %v", name, mf.GetType())
			}
			for key, v := range want {
				n++
				var got float64
				var ok bool
				switch {
				case strings.HasPrefix(key, `decisions_total{decision="`):
					got, ok = st.Decisions[strings.TrimSuffix(strings.TrimPrefix(key, `decisions_total{decision="`), `"}`)]
				case strings.HasPrefix(key, `recording_transitions_total{state="`):
					got, ok = st.RecordingTransitions[strings.TrimSuffix(strings.TrimPrefix(key, `recording_transitions_total{state="`), `"}`)]
				default:
					got, ok = st.Counters[key]
				}
				if !ok || got != v {
					t.Errorf("metric %s %v: JSON has %v (present %v)", key, v, got, ok)
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d samples compared", n)
	}
}
