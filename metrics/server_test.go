package metrics

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openServer opens a Server on a free loopback port with the given checks.
func openServer(t *testing.T, reg *Registry, checks []Check, tweak func(*Server)) *Server {
	t.Helper()
	s := NewServer("127.0.0.1:0", reg, &Readiness{Checks: checks, CacheFor: time.Nanosecond}, quiet())
	if tweak != nil {
		tweak(s)
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func get(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Scrape parses /metrics with Prometheus' own text parser.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, s, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return mfs
}

func TestServer_Endpoints(t *testing.T) {
	reg := New()
	reg.Decision(consent.DecisionGranted)
	reg.Decision("made-up") // not a decision: never a label value
	reg.PanicRecovered("call")
	reg.PanicRecovered("no-such-loop")
	reg.StoreCommit("grant", 3*time.Millisecond)
	reg.DigitToRecord(7 * time.Millisecond)
	reg.SetRetentionAlarms(func() map[string]float64 { return map[string]float64{AlarmOrphan: 2, "made-up": 9} })
	var fsUp atomic.Bool
	s := openServer(t, reg, []Check{{Name: "freeswitch", Func: func(context.Context) error {
		if !fsUp.Load() {
			return errors.New("control connection down")
		}
		return nil
	}}}, nil)

	mfs := scrape(t, s)
	for name, typ := range map[string]dto.MetricType{
		"callconsent_decisions_total":                      dto.MetricType_COUNTER,
		"callconsent_panics_recovered_total":               dto.MetricType_COUNTER,
		"callconsent_alarms_total":                         dto.MetricType_COUNTER,
		"callconsent_store_commit_seconds":                 dto.MetricType_HISTOGRAM,
		"callconsent_digit_to_record_session_seconds":      dto.MetricType_HISTOGRAM,
		"callconsent_sweep_duration_seconds":               dto.MetricType_HISTOGRAM,
		"callconsent_file_deletion_seconds":                dto.MetricType_HISTOGRAM,
		"callconsent_last_sweep_success_timestamp_seconds": dto.MetricType_GAUGE,
		"process_start_time_seconds":                       dto.MetricType_GAUGE,
	} {
		if mf := mfs[name]; mf == nil || mf.GetType() != typ {
			t.Errorf("%s: %v, want type %v", name, mf, typ)
		}
	}
	values := map[string]float64{}
	for _, name := range []string{"callconsent_decisions_total", "callconsent_alarms_total", "callconsent_panics_recovered_total"} {
		for _, m := range mfs[name].GetMetric() {
			values[name+labelText(m.GetLabel())] = m.GetCounter().GetValue()
		}
	}
	for k, want := range map[string]float64{
		`callconsent_decisions_total{decision="granted"}`:           1,
		`callconsent_decisions_total{decision="declined"}`:          0,
		`callconsent_alarms_total{kind="orphan"}`:                   2,
		`callconsent_alarms_total{kind="panic-recovered"}`:          1,
		`callconsent_alarms_total{kind="esl-peer-refused"}`:         0,
		`callconsent_panics_recovered_total{loop="call"}`:           1,
		`callconsent_panics_recovered_total{loop="control-socket"}`: 0,
	} {
		if got, ok := values[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	if n := len(mfs["callconsent_decisions_total"].GetMetric()); n != len(consent.Decisions) {
		t.Errorf("decisions_total has %d series, want one per decision (%d)", n, len(consent.Decisions))
	}
	if n := len(mfs["callconsent_alarms_total"].GetMetric()); n != len(AlarmKinds) {
		t.Errorf("alarms_total has %d series, want one per kind (%d)", n, len(AlarmKinds))
	}
	if h := mfs["callconsent_digit_to_record_session_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != 0.007 {
		t.Errorf("digit_to_record_session: %v", h)
	}

	if code, body := get(t, s, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, s, "/readyz"); code != 503 || body != "freeswitch: control connection down\n" {
		t.Errorf("/readyz with a failing check: %d %q", code, body)
	}
	fsUp.Store(true)
	if code, body := get(t, s, "/readyz"); code != 200 || body != "freeswitch: ok\n" {
		t.Errorf("/readyz with every check passing: %d %q", code, body)
	}
	resp, err := http.Post("http://"+s.Addr().String()+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d, want 405", resp.StatusCode)
	}
}

// TestServer_Bounds: connections beyond MaxConns are closed at accept (and counted), an idle
// connection is dropped after the header timeout, a header block over the bound gets 431, and
// once the idle ones are gone a scrape is served again.
func TestServer_Bounds(t *testing.T) {
	s := openServer(t, New(), nil, func(s *Server) { s.MaxConns = 4; s.headerTimeout = time.Second })
	var idle []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	waitFor(t, "the 4 idle connections accepted", func() bool { return s.limit.Open() == 4 })
	extra, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(500 * time.Millisecond)) // well before the header timeout
	if _, err := extra.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("a connection beyond MaxConns: read %v, want it closed at once", err)
	}
	if s.Refused() != 1 {
		t.Errorf("refused = %d, want 1", s.Refused())
	}
	for _, c := range idle { // dropped after the header timeout, not held for ever
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.ReadAll(c); err != nil && !isReset(err) {
			t.Fatalf("idle connection not closed by the server: %v", err)
		}
	}
	waitFor(t, "the slots freed", func() bool { return s.limit.Open() == 0 })

	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 64<<10))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB of headers: %d, want 431", resp.StatusCode)
	}
	if code, _ := get(t, s, "/metrics"); code != 200 {
		t.Errorf("scrape after the flood: %d", code)
	}
}

// TestReadiness_OneRunPerCacheWindow: many callers at once cost one run of the checks.
func TestReadiness_OneRunPerCacheWindow(t *testing.T) {
	var runs atomic.Int32
	r := &Readiness{CacheFor: time.Hour, Checks: []Check{{Name: "store", Func: func(context.Context) error {
		runs.Add(1)
		time.Sleep(50 * time.Millisecond)
		return nil
	}}}}
	done := make(chan bool)
	for range 20 {
		go func() { _, ok := r.Ready(context.Background()); done <- ok }()
	}
	for range 20 {
		if !<-done {
			t.Error("not ready")
		}
	}
	if runs.Load() != 1 {
		t.Errorf("checks ran %d times for 20 callers, want 1", runs.Load())
	}
	slow := &Readiness{Timeout: 20 * time.Millisecond, Checks: []Check{{Name: "store", Func: func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	}}}}
	if res, ok := slow.Ready(context.Background()); ok || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "did not answer within 20ms") {
		t.Errorf("a check that hangs: %v %v", ok, res)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "connection reset") }
