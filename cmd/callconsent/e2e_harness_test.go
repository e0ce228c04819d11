package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
	"github.com/callconsent/callconsent/recordings/recordingstest"
	"log/slog"
)

// harness runs the daemon in this process against the fake FreeSWITCH over real TCP, with a
// real SQLite file and real WAV files in a temporary --data-dir.
type harness struct {
	t       testing.TB
	ctx     context.Context
	dir     string
	fs      *fakefs.Server
	d       *daemon
	cfg     *Config
	commits *commitLog
	logs    *syncBuffer
}

const testPassword = "not-ClueCon-7f3a"

func startHarness(t testing.TB, fsCfg fakefs.Config, flags ...string) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{t: t, ctx: ctx, dir: t.TempDir(), commits: &commitLog{}, logs: &syncBuffer{}}

	fsCfg.Password = testPassword
	fsCfg.HeartbeatInterval = cmpOr(fsCfg.HeartbeatInterval, 200*time.Millisecond)
	fsCfg.ShutdownDelay = cmpOr(fsCfg.ShutdownDelay, 100*time.Millisecond)
	fsCfg.RecordFlushInterval = cmpOr(fsCfg.RecordFlushInterval, 20*time.Millisecond)
	fsCfg.Logger = slog.New(slog.NewTextHandler(h.logs, nil))
	h.fs = fakefs.New(fsCfg)
	if err := h.fs.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.fs.Close() })

	if err := os.WriteFile(filepath.Join(h.dir, "esl-password"), []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--data-dir", h.dir, "--esl-listen", "127.0.0.1:0", "--freeswitch", h.fs.Addr(),
		"--digit-timeout", "200ms", "--log-level", "debug"}, testNoticeFlags(t, testNoticeLen)...)
	args = append(args, flags...)
	cfg, err := LoadConfig(filepath.Join(h.dir, "absent.yaml"), false, testFlags(t, args...))
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = cfg
	h.d = newDaemon(cfg, slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	h.d.wrapStore = func(s callStore) callStore { return &observedStore{callStore: s, log: h.commits} }
	if err := h.d.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.assertNoCallerData("while running")
		h.d.Close()
		h.assertNoCallerData("after close")
	})
	h.waitFor("control connection ready", h.d.control.Ready)
	return h
}

// testNoticeLen is how long the harness's notices last: short, so that a call takes a fraction
// of a second. min-notice is all of it, so the notice plays whole before a key counts, as it
// does on FreeSWITCH whenever the notice is shorter than its playback block (2.048 s).
const testNoticeLen = 300 * time.Millisecond

// pressAfterNotice presses digits once the first notice has played, when they count.
func pressAfterNotice(digits string) fakefs.Step {
	return fakefs.Press(fakefs.AtPrompt, testNoticeLen+40*time.Millisecond, digits)
}

// testNoticeFlags writes nb and en notices of length d (and 100 ms invalid-choice prompts) as
// real WAV files, whose length the fake FreeSWITCH plays, and returns the flags that configure
// them with min-notice d.
func testNoticeFlags(t testing.TB, d time.Duration) []string {
	t.Helper()
	dir := t.TempDir()
	flags := []string{"--min-notice", d.String()}
	for _, lang := range []string{"nb", "en"} {
		notice, invalid := filepath.Join(dir, "notice-"+lang+".wav"), filepath.Join(dir, "invalid-"+lang+".wav")
		writeSilentWAV(t, notice, d)
		writeSilentWAV(t, invalid, 100*time.Millisecond)
		flags = append(flags, "--notice", lang+"=test-"+lang+":"+notice+":"+invalid)
	}
	return flags
}

// writeSilentWAV writes d of 8 kHz mono 16-bit PCM silence, mode 0644 as FreeSWITCH leaves it.
func writeSilentWAV(t testing.TB, path string, d time.Duration) {
	t.Helper()
	if err := os.WriteFile(path, recordingstest.WAV(1, 8000, 16, int(d.Seconds()*8000*2), -1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// callerData are the caller ids the fake FreeSWITCH sends by default, in the spellings they
// could be stored or logged in.
var callerData = []string{"+4791234567", "4791234567", "91234567", "%2B4791234567", "Kari", "Nordmann"}

// assertNoCallerData checks the logs and the database files (db, -wal) byte for byte: the
// caller's number and name reach neither (R-PSEUDO-1, R-PSEUDO-4).
func (h *harness) assertNoCallerData(when string) {
	h.t.Helper()
	for _, n := range callerData {
		if strings.Contains(h.logs.String(), n) {
			h.t.Errorf("%s: logs contain caller data %q", when, n)
		}
	}
	for _, f := range []string{h.cfg.DB, h.cfg.DB + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // no -wal after a clean close
		}
		for _, n := range callerData {
			if bytes.Contains(b, []byte(n)) {
				h.t.Errorf("%s: %s contains caller data %q", when, filepath.Base(f), n)
			}
		}
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s\nlogs:\n%s", what, h.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// call places one scripted call through the daemon and returns what the fake saw.
func (h *harness) call(spec fakefs.CallSpec) fakefs.CallResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer cancel()
	res, err := h.fs.Call(ctx, h.d.outbound.Addr().String(), spec)
	if err != nil {
		h.t.Fatalf("call: %v", err)
	}
	return res
}

// finalCall waits until the daemon has finished the call's rows and returns them.
func (h *harness) finalCall(uuid string) *consent.Call {
	h.t.Helper()
	var c *consent.Call
	h.waitFor("call "+uuid+" finished", func() bool {
		var err error
		c, err = h.d.store.DB.FindCall(h.ctx, uuid)
		return err == nil && !h.d.live.Has(uuid) && c.Decision.Final() && (c.Recording == nil || !c.Recording.State.Live())
	})
	return c
}

// commitLog records when each decision's commit returned, to compare with when FreeSWITCH
// received record_session.
type commitLog struct {
	mu      sync.Mutex
	decided map[string]time.Time
}

func (l *commitLog) decidedAt(uuid string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.decided[uuid]
	return t, ok
}

type observedStore struct {
	callStore
	log *commitLog
}

func (s *observedStore) StoreGrant(ctx context.Context, c *consent.Call, r *consent.Recording) error {
	err := s.callStore.StoreGrant(ctx, c, r)
	if err == nil {
		s.log.granted(c.UUID)
	}
	return err
}

func (s *observedStore) StoreDecision(ctx context.Context, c *consent.Call) error {
	err := s.callStore.StoreDecision(ctx, c)
	if err == nil && c.Decision == consent.DecisionGranted {
		s.log.granted(c.UUID)
	}
	return err
}

// granted notes that the grant of a call is committed, now.
func (l *commitLog) granted(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.decided == nil {
		l.decided = map[string]time.Time{}
	}
	l.decided[id] = time.Now()
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
