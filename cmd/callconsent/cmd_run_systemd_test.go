package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/control"
	"github.com/callconsent/callconsent/esl/fakefs"
)

// TestRun_SystemdNotifyAndJSONLogs runs `callconsent run` in-process as systemd would start
// a Type=notify unit with WatchdogSec: READY=1 comes only once calls, the control socket and
// the metrics listener are served; WATCHDOG=1 follows every half period; STOPPING=1 at the
// stop. With log-format json every line is one JSON object with time, level and msg, and a
// call leaves no caller data in them.
func TestRun_SystemdNotifyAndJSONLogs(t *testing.T) {
	dir := t.TempDir()
	sockPath := filepath.Join(dir, "notify.sock")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	t.Setenv("NOTIFY_SOCKET", sockPath)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	messages := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := sock.Read(buf)
			if err != nil {
				close(messages)
				return
			}
			messages <- string(buf[:n])
		}
	}()
	logs := &syncBuffer{}
	next := func(within time.Duration) string {
		t.Helper()
		select {
		case m := <-messages:
			return m
		case <-time.After(within):
			t.Fatalf("no notify message within %v; logs:\n%s", within, logs.String())
			return ""
		}
	}

	fs := fakefs.New(fakefs.Config{Password: testPassword, HeartbeatInterval: 200 * time.Millisecond,
		RecordFlushInterval: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := fs.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	if err := os.WriteFile(filepath.Join(dir, "esl-password"), []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	eslListen, metricsListen := freePort(t), freePort(t)
	cfgFile := filepath.Join(dir, "callconsent.yaml")
	if err := os.WriteFile(cfgFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--config", cfgFile, "--data-dir", dir, "--esl-listen", eslListen,
		"--metrics-listen", metricsListen, "--freeswitch", fs.Addr(), "--digit-timeout", "200ms", "--log-format", "json",
		"--log-level", "debug"}, testNoticeFlags(t, testNoticeLen)...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx, append(args, "run"), io.Discard, logs) }()

	if m := next(10 * time.Second); m != "READY=1" {
		t.Fatalf("first message %q, want READY=1; logs:\n%s", m, logs.String())
	}
	// Everything READY promises is there now, without waiting.
	c, err := net.DialTimeout("tcp", eslListen, time.Second)
	if err != nil {
		t.Fatalf("READY=1 before esl-listen accepts: %v", err)
	}
	c.Close()
	if resp, err := http.Get("http://" + metricsListen + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("READY=1 before the metrics listener answers: %v", err)
	} else {
		resp.Body.Close()
	}
	if _, err := (control.Client{Path: filepath.Join(dir, "control.sock")}).Status(ctx); err != nil {
		t.Fatalf("READY=1 before the control socket answers: %v", err)
	}
	for i := range 2 {
		if m := next(time.Second); m != "WATCHDOG=1" {
			t.Fatalf("message %d after READY: %q, want WATCHDOG=1", i, m)
		}
	}

	res, err := fs.Call(ctx, eslListen, fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}})
	if err != nil || !slices.Contains(res.Apps, "transfer") {
		t.Fatalf("call: %+v, %v", res, err)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("run exited %d", code)
	}
	for m := range messages {
		if m == "STOPPING=1" {
			break
		} else if m != "WATCHDOG=1" {
			t.Fatalf("unexpected message %q", m)
		}
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	sawCall := false
	for _, line := range lines {
		if strings.HasPrefix(line, "callconsent: ") { // the signal notice of main, not a log line
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		if _, err := time.Parse(time.RFC3339Nano, str(rec["time"])); err != nil || str(rec["msg"]) == "" ||
			!strings.Contains("DEBUG INFO WARN ERROR", str(rec["level"])) {
			t.Errorf("log line lacks time, level or msg: %s", line)
		}
		sawCall = sawCall || rec["call"] == res.UUID && rec["msg"] == "consent decided"
		for _, n := range callerData {
			if strings.Contains(line, n) {
				t.Errorf("log line holds caller data %q: %s", n, line)
			}
		}
	}
	if !sawCall {
		t.Errorf("no JSON line with call=%s and msg=\"consent decided\":\n%s", res.UUID, logs.String())
	}
}

func str(v any) string { s, _ := v.(string); return s }
