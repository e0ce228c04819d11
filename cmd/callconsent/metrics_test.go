package main

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
	"github.com/callconsent/callconsent/recordings"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// httpGet fetches a path of the daemon's metrics listener.
func (h *harness) httpGet(path string) (int, string) {
	h.t.Helper()
	resp, err := http.Get("http://" + h.d.metricsServer.Addr().String() + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// scrape parses /metrics with Prometheus' text parser and returns each sample by name and
// labels, as in the text format, plus the families.
func (h *harness) scrape() (map[string]float64, map[string]*dto.MetricFamily) {
	h.t.Helper()
	code, body := h.httpGet("/metrics")
	if code != 200 {
		h.t.Fatalf("/metrics: %d\n%s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		h.t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	samples := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				samples[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				samples[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				samples[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
				samples[key+"_sum"] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return samples, mfs
}

var (
	uuidLike   = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-`)
	metricName = regexp.MustCompile(`callconsent_[a-z_]+[a-z]`)
)

// TestMetrics_Scrape: a daemon that took a grant and a decline, ran scheduled sweeps and met
// an orphan (an alarm) shows all of it on /metrics, with the right types and names, parsed by
// Prometheus' own parser; no label carries a UUID or caller data. /readyz turns 503 when
// FreeSWITCH goes away and 200 when it is back.
func TestMetrics_Scrape(t *testing.T) {
	start := time.Now()
	h := startHarness(t, fakefs.Config{}, "--sweep-schedule", "@every 1s")
	h.d.readiness.CacheFor = 50 * time.Millisecond // nothing has scraped yet

	// An orphan two days old in an old day folder: the first sweep scans for orphans.
	orphan := recordings.Path(h.cfg.RecordingsDir, "0f0f0f0f-1111-4222-8333-444455556666", time.Now().AddDate(0, 0, -2))
	if err := os.MkdirAll(filepath.Dir(orphan), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphan, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(orphan, old, old)

	granted := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: 1200 * time.Millisecond})
	h.finalCall(granted.UUID)
	declined := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}})
	h.finalCall(declined.UUID)

	var s map[string]float64
	var mfs map[string]*dto.MetricFamily
	h.waitFor("a sweep that deleted the orphan, and a census after it", func() bool {
		s, mfs = h.scrape()
		return s[`callconsent_alarms_total{kind="orphan"}`] == 1 && s["callconsent_recordings_held"] == 1
	})
	for name, typ := range map[string]dto.MetricType{
		"callconsent_decisions_total":                      dto.MetricType_COUNTER,
		"callconsent_recording_transitions_total":          dto.MetricType_COUNTER,
		"callconsent_calls_refused_total":                  dto.MetricType_COUNTER,
		"callconsent_calls_over_limit_total":               dto.MetricType_COUNTER,
		"callconsent_esl_peer_refusals_total":              dto.MetricType_COUNTER,
		"callconsent_panics_recovered_total":               dto.MetricType_COUNTER,
		"callconsent_alarms_total":                         dto.MetricType_COUNTER,
		"callconsent_sweep_runs_total":                     dto.MetricType_COUNTER,
		"callconsent_sweep_deleted_files_total":            dto.MetricType_COUNTER,
		"callconsent_digit_to_record_session_seconds":      dto.MetricType_HISTOGRAM,
		"callconsent_store_commit_seconds":                 dto.MetricType_HISTOGRAM,
		"callconsent_sweep_duration_seconds":               dto.MetricType_HISTOGRAM,
		"callconsent_file_deletion_seconds":                dto.MetricType_HISTOGRAM,
		"callconsent_live_calls":                           dto.MetricType_GAUGE,
		"callconsent_freeswitch_connected":                 dto.MetricType_GAUGE,
		"callconsent_recordings_held":                      dto.MetricType_GAUGE,
		"callconsent_recordings_held_bytes":                dto.MetricType_GAUGE,
		"callconsent_recordings_oldest_age_seconds":        dto.MetricType_GAUGE,
		"callconsent_last_sweep_success_timestamp_seconds": dto.MetricType_GAUGE,
		"callconsent_retention_seconds":                    dto.MetricType_GAUGE,
		"callconsent_sweep_interval_seconds":               dto.MetricType_GAUGE,
		"callconsent_alarms_active":                        dto.MetricType_GAUGE,
		"callconsent_ready":                                dto.MetricType_GAUGE,
	} {
		if mf := mfs[name]; mf == nil || mf.GetType() != typ {
			t.Errorf("%s: %v, want a %v", name, mf.GetType(), typ)
		}
	}
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "callconsent_") {
			continue
		}
		if (mf.GetType() == dto.MetricType_COUNTER) != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %v: counters and only counters end in _total", name, mf.GetType())
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if uuidLike.MatchString(l.GetValue()) || len(l.GetValue()) > 32 {
					t.Errorf("%s: label %s=%q looks like call data", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
	for key, want := range map[string]float64{
		`callconsent_decisions_total{decision="granted"}`:               1,
		`callconsent_decisions_total{decision="declined"}`:              1,
		`callconsent_recording_transitions_total{state="complete"}`:     1,
		`callconsent_digit_to_record_session_seconds_count`:             1,
		`callconsent_store_commit_seconds{op="grant"}_count`:            1,
		`callconsent_store_commit_seconds{op="decide_call"}_count`:      1,
		`callconsent_store_commit_seconds{op="end_call"}_count`:         2,
		`callconsent_store_commit_seconds{op="update_recording"}_count`: 0,
		`callconsent_alarms_total{kind="not-granted-audio"}`:            0,
		`callconsent_alarms_total{kind="panic-recovered"}`:              0,
		`callconsent_file_deletion_seconds_count`:                       1,
		"callconsent_live_calls":                                        0,
		"callconsent_freeswitch_connected":                              1,
		"callconsent_ready":                                             1,
		"callconsent_alarms_active":                                     0,
		"callconsent_retention_seconds":                                 2160 * 3600,
		"callconsent_sweep_interval_seconds":                            1,
		"callconsent_recordings_held":                                   1,
	} {
		if got, ok := s[key]; !ok || got != want {
			t.Errorf("%s = %v (present: %v), want %v", key, got, ok, want)
		}
	}
	if s["callconsent_sweep_runs_total"] < 1 || s["callconsent_sweep_duration_seconds_count"] < 1 {
		t.Errorf("no sweep counted: runs %v, durations %v", s["callconsent_sweep_runs_total"], s["callconsent_sweep_duration_seconds_count"])
	}
	if last := s["callconsent_last_sweep_success_timestamp_seconds"]; last < float64(start.Unix()) || last > float64(time.Now().Unix()+1) {
		t.Errorf("last successful sweep at %v, want since the test started (%d)", last, start.Unix())
	}
	if age := s["callconsent_recordings_oldest_age_seconds"]; age <= 0 || age > time.Since(start).Seconds()+1 {
		t.Errorf("oldest recording age %v s, want the granted call's (at most %v s)", age, time.Since(start).Seconds())
	}
	if s["callconsent_recordings_held_bytes"] <= 44 {
		t.Errorf("bytes held %v, want the granted call's WAV", s["callconsent_recordings_held_bytes"])
	}
	if s["process_start_time_seconds"] == 0 {
		t.Errorf("no process metrics on /metrics")
	}

	// The alert rules and the dashboard name only metrics the daemon exports.
	for _, file := range []string{"../../scripts/prometheus/callconsent-alerts.yml", "../../scripts/grafana/callconsent.json"} {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		names := metricName.FindAllString(string(text), -1)
		if len(names) < 10 {
			t.Errorf("%s names only %d metrics", file, len(names))
		}
		for _, name := range names {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
			if mf := mfs[base]; mf == nil || base != name && mf.GetType() != dto.MetricType_HISTOGRAM {
				t.Errorf("%s uses %s, which the daemon does not export", file, name)
			}
		}
	}

	if code, body := h.httpGet("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := h.httpGet("/readyz"); code != 200 || body != "store: ok\nfreeswitch: ok\nnotices: ok\nalarms: ok\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	fsAddr := h.fs.Addr()
	h.fs.Close()
	h.waitFor("/readyz not ready without FreeSWITCH", func() bool {
		code, body := h.httpGet("/readyz")
		return code == 503 && strings.Contains(body, "freeswitch: control connection to FreeSWITCH at "+fsAddr+" is down")
	})
	if s, _ := h.scrape(); s["callconsent_ready"] != 0 || s["callconsent_freeswitch_connected"] != 0 {
		t.Errorf("ready %v, connected %v without FreeSWITCH", s["callconsent_ready"], s["callconsent_freeswitch_connected"])
	}
	fs2 := fakefs.New(fakefs.Config{Addr: fsAddr, Password: testPassword, HeartbeatInterval: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(h.logs, nil))})
	if err := fs2.Open(h.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs2.Close() })
	h.waitFor("/readyz ready again with FreeSWITCH back", func() bool {
		code, _ := h.httpGet("/readyz")
		return code == 200
	})
}

// TestReadiness_Notices: a notice changed on disk since start (the proofs name the old hash)
// or gone makes the daemon unready, naming the file and what to do.
func TestReadiness_Notices(t *testing.T) {
	cfg := testConfig(t, testNoticeFlags(t, testNoticeLen)...)
	d := &daemon{cfg: cfg}
	notices := d.noticeFiles()
	if err := notices.check(nil); err != nil {
		t.Fatalf("unchanged notices: %v", err)
	}
	nb, en := cfg.Notices["nb"].File, cfg.Notices["en"].File
	writeSilentWAV(t, nb, 2*testNoticeLen)
	os.Remove(en)
	err := notices.check(nil)
	for _, want := range []string{"notice nb " + nb + " changed since start: callers hear other audio than the proofs name; restart callconsent",
		"notice en " + en + " cannot be read: no such file or directory"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("check: %v; want %q", err, want)
		}
	}
}
