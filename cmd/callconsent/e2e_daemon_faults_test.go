package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
	"github.com/callconsent/callconsent/recordings"
)

// restart closes the harness's daemon and opens another on the same folder, configuration
// and FreeSWITCH, after setup (nil: none) has adjusted it: what a restart of callconsent does.
func (h *harness) restart(setup func(d *daemon)) {
	h.t.Helper()
	h.d.Close()
	d := newDaemon(h.cfg, slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	d.wrapStore = func(s callStore) callStore { return &observedStore{callStore: s, log: h.commits} }
	if setup != nil {
		setup(d)
	}
	if err := d.Open(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	h.d = d
}

// panicOnDecline is a store whose StoreDecision panics on a decline, as a bug in the flow
// would; the panic's value holds a caller number, which must reach no log.
type panicOnDecline struct{ callStore }

func (s panicOnDecline) StoreDecision(ctx context.Context, c *consent.Call) error {
	if c.Decision == consent.DecisionDeclined {
		panic("declined by caller " + callerData[0])
	}
	return s.callStore.StoreDecision(ctx, c)
}

// A panic in one call's flow is recovered: the call's socket is closed (FreeSWITCH's dialplan
// fallback takes the caller on), the panic is logged with its stack and counted, status shows
// it as an alarm (exit 5), and the next calls are handled as usual.
func TestE2E_PanicInCallRecovered(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	h.restart(func(d *daemon) {
		d.wrapStore = func(s callStore) callStore { return panicOnDecline{s} }
	})
	h.waitFor("control connection ready", h.d.control.Ready)

	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}})
	h.waitFor("the flow gone", func() bool { return h.d.live.Len() == 0 })
	ok := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: minRecording})
	if c := h.finalCall(ok.UUID); c.Decision != consent.DecisionGranted || c.Recording.State != consent.RecordingComplete {
		t.Errorf("the call after the panic: %s, recording %+v", c.Decision, c.Recording)
	}

	var out bytes.Buffer
	err := runStatus(h.ctx, h.cfg, statusOptions{}, &out)
	if exitCode(err, true) != exitAlarm {
		t.Errorf("status: exit %d (%v), want %d", exitCode(err, true), err, exitAlarm)
	}
	for _, want := range []string{"ALARM recovered-panic since", "1 panic(s) recovered since start, the last in call",
		`callconsent_panics_recovered_total{loop="call"} 1`, `callconsent_panics_recovered_total{loop="reconcile"} 0`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "alarm: panic recovered; going on") || !strings.Contains(logs, "call="+res.UUID) ||
		!strings.Contains(logs, "panicOnDecline.StoreDecision") {
		t.Errorf("the panic is not logged with its call and stack:\n%s", logs)
	}
	// assertNoCallerData (cleanup) checks that the panic's value, a caller number, is in no log.
}

// writeCraftedWAV writes a WAV whose fmt chunk says 4 bits per sample: 0 bytes per frame,
// which divided by zero in InspectWAV.
func writeCraftedWAV(t *testing.T, path string) {
	t.Helper()
	writeSilentWAV(t, path, 100*time.Millisecond)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint16(b[32:], 1)
	binary.LittleEndian.PutUint16(b[34:], 4)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// leftovers are the rows a daemon that crashed mid-call leaves, stored directly.
type leftovers struct {
	pending, recording, crafted, decided string
}

// leaveRows stores, as the daemon that crashed would have left them: a call still pending (it
// was at the notice), a granted call still recording (its file 0644 as FreeSWITCH leaves it), a
// granted call whose file is a crafted WAV, and a decided call without an end. FreeSWITCH has
// none of them any more.
func leaveRows(t *testing.T, h *harness) leftovers {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := leftovers{"4f8c2a10-aaaa-4c3b-9a3e-0d5b7e9c2f01", "4f8c2a10-aaaa-4c3b-9a3e-0d5b7e9c2f02",
		"4f8c2a10-aaaa-4c3b-9a3e-0d5b7e9c2f03", "4f8c2a10-aaaa-4c3b-9a3e-0d5b7e9c2f04"}
	at := time.Now().Add(-time.Minute).UTC()
	for _, id := range []string{l.pending, l.recording, l.crafted, l.decided} {
		if err := st.DB.CreateCall(ctx, &consent.Call{UUID: id, CallerPseudonym: consent.AnonymousPseudonym, StartedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{l.recording, l.crafted} {
		path := recordings.Path(h.cfg.RecordingsDir, id, at)
		os.MkdirAll(filepath.Dir(path), 0o700)
		rec := &consent.Recording{CallUUID: id, Path: path, State: consent.RecordingPending, StartedAt: at}
		if err := st.DB.Grant(ctx, id, &consent.Proof{Digit: "1", Tries: 1}, rec); err != nil {
			t.Fatal(err)
		}
		if err := st.DB.UpdateRecording(ctx, id, consent.RecordingRecording, consent.RecordingUpdate{}); err != nil {
			t.Fatal(err)
		}
		if id == l.crafted {
			writeCraftedWAV(t, path)
		} else {
			writeSilentWAV(t, path, 2*time.Second)
			os.Chmod(path, 0o644)
		}
	}
	if err := st.DB.DecideCall(ctx, l.decided, consent.DecisionError, nil); err != nil {
		t.Fatal(err)
	}
	return l
}

// callsListed runs calls list --output json.
func callsListed(t *testing.T, cfg *Config) map[string]callJSON {
	t.Helper()
	var out bytes.Buffer
	if err := runCallsList(context.Background(), cfg, callsListOptions{Output: outputJSON}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var list []callJSON
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	m := map[string]callJSON{}
	for _, c := range list {
		m[c.UUID] = c
	}
	return m
}

// After a crash: at the next start, before FreeSWITCH is reachable, the calls left pending
// are abandoned at once (FreeSWITCH's fallback took them), and calls list marks the
// recordings left live as unconfirmed. Once FreeSWITCH answers, reconcile finalises them (also
// the one with a crafted WAV, which crashed the daemon before), makes them 0600, and gives every
// call FreeSWITCH no longer has its end.
func TestE2E_StartAfterCrash(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	h.d.Close()
	l := leaveRows(t, h)
	// No daemon runs: no one follows the recordings left live.
	for _, id := range []string{l.recording, l.crafted} {
		if r := callsListed(t, h.cfg)[id].Recording; r == nil || !r.Unconfirmed {
			t.Errorf("recording left live, no daemon: %+v, want unconfirmed", r)
		}
	}
	fsAddr := h.fs.Addr()
	h.fs.Close() // FreeSWITCH unreachable at the start

	h.restart(nil)
	listed := callsListed(t, h.cfg)
	if c := listed[l.pending]; c.Decision != string(consent.DecisionAbandoned) {
		t.Errorf("call left pending is %s at start, want abandoned at once", c.Decision)
	}
	for _, id := range []string{l.recording, l.crafted} {
		if r := listed[id].Recording; r == nil || r.State != "recording" || !r.Unconfirmed {
			t.Errorf("recording left live: %+v, want recording, unconfirmed", r)
		}
	}
	var table bytes.Buffer
	if err := runCallsList(h.ctx, h.cfg, callsListOptions{}, &table, io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(table.String(), "recording (unconfirmed)"); n != 2 {
		t.Errorf("table shows %d unconfirmed recordings, want 2:\n%s", n, table.String())
	}

	// FreeSWITCH comes back on its address: reconcile runs after the connect.
	fs2 := fakefs.New(fakefs.Config{Addr: fsAddr, Password: testPassword, HeartbeatInterval: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(h.logs, nil))})
	if err := fs2.Open(h.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs2.Close() })
	// A run finalises the recordings first and stamps the other calls' ends after: wait for
	// the whole run, not its first row.
	h.waitFor("reconcile after the connect", func() bool {
		listed := callsListed(t, h.cfg)
		for _, id := range []string{l.pending, l.recording, l.crafted, l.decided} {
			if listed[id].EndedAt == nil {
				return false
			}
		}
		c := listed[l.recording]
		return c.Recording != nil && c.Recording.State == "complete"
	})
	listed = callsListed(t, h.cfg)
	for _, id := range []string{l.pending, l.recording, l.crafted, l.decided} {
		if c := listed[id]; c.EndedAt == nil || c.Recording != nil && (c.Recording.Unconfirmed || c.Recording.State == "recording") {
			t.Errorf("%s after reconcile: ended %v, recording %+v", id, c.EndedAt, c.Recording)
		}
	}
	if r := listed[l.crafted].Recording; r.State != "complete" || r.DurationMS != 200 {
		t.Errorf("crafted WAV (1600 bytes at 1 byte a frame, 8 kHz) finalised as %+v", r)
	}
	if fi, err := os.Stat(listed[l.recording].Recording.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("finalised recording: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if strings.Contains(h.logs.String(), "panic") {
		t.Errorf("a panic was logged:\n%s", h.logs.String())
	}
}

// A recording FreeSWITCH leaves 0644 is 0600 once the call is over (R-SEC-5).
func TestE2E_RecordingMadePrivate(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	uuid := "4f8c2a10-bbbb-4c3b-9a3e-0d5b7e9c2f11"
	done := h.startCall(fakefs.CallSpec{UUID: uuid, Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: minRecording})
	rec := h.waitRecording(uuid)
	if err := os.Chmod(rec.Path, 0o644); err != nil { // whatever the umask of this test, as FreeSWITCH does
		t.Fatal(err)
	}
	<-done
	c := h.finalCall(uuid)
	fi, err := os.Stat(rec.Path)
	if err != nil || c.Recording.State != consent.RecordingComplete {
		t.Fatalf("recording %s: %v", c.Recording.State, err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("finished recording has mode %04o, want 0600", fi.Mode().Perm())
	}
}

// A second daemon started on the same configuration while one runs stops at the control
// socket, before it touches the database: the calls the running daemon drives are not its to
// abandon (settleLeftovers abandons every pending call no flow of its own drives).
func TestE2E_SecondDaemonLeavesCallsAlone(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	const uuid = "4f8c2a10-5ec0-4c3b-9a3e-0d5b7e9c2f11"
	done := h.startCall(fakefs.CallSpec{UUID: uuid}) // silence: undecided until the tries run out
	h.waitFor("a call at the notice", func() bool { return h.d.live.Has(uuid) })
	second := newDaemon(h.cfg, slog.New(slog.NewTextHandler(h.logs, nil)))
	err := second.Open(h.ctx)
	if consent.ErrorCode(err) != consent.ECONFLICT || !strings.Contains(err.Error(), "another callconsent daemon is running") {
		t.Errorf("second daemon: %v, want a conflict", err)
	}
	<-done
	if c := h.finalCall(uuid); c.Decision != consent.DecisionNoInput {
		t.Errorf("the running daemon's call ended %s, want no-input", c.Decision)
	}
	ctlPing(t, h.d, 5*time.Second) // the running daemon's socket survived the attempt
}

// panicOnFind is a store whose FindRecordings panics: every reconcile run fails as a whole.
type panicOnFind struct{ callStore }

func (panicOnFind) FindRecordings(context.Context, consent.RecordingFilter) ([]*consent.Recording, error) {
	var rows []*consent.Recording
	return rows[:1], nil // slice bounds out of range
}

// The reconcile loop survives a run that panics, run after run (a crafted recording crashed
// the daemon every minute after each restart): each is logged and counted, the loop goes on,
// and calls are still handled.
func TestE2E_ReconcileLoopRecovers(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	h.restart(func(d *daemon) {
		d.wrapStore = func(s callStore) callStore { return panicOnFind{s} }
		d.reconcileEvery = 50 * time.Millisecond
	})
	h.waitFor("three reconcile runs recovered", func() bool {
		text, _ := h.d.metrics.Text()
		return strings.Contains(text, `{loop="reconcile"} 3`)
	})
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}})
	if c := h.finalCall(res.UUID); c.Decision != consent.DecisionDeclined {
		t.Errorf("call after the panics: %s", c.Decision)
	}
	if !strings.Contains(h.logs.String(), "slice bounds out of range [:1] with capacity 0") {
		t.Errorf("the panic's runtime error is not logged")
	}
}
