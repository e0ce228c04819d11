package consent_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/recordings/recordingstest"
)

type existsControl struct {
	fakeControl
	live map[string]bool
}

func (c existsControl) CallExists(_ context.Context, id string) (bool, error) { return c.live[id], nil }

func TestReconciler(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := openStore(t)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ids := map[string]string{
		"good":      "00000000-0000-4000-8000-000000000001", // recording, file fine, call gone
		"missing":   "00000000-0000-4000-8000-000000000002", // recording, no file, call gone
		"pendingok": "00000000-0000-4000-8000-000000000003", // pending, file fine: it did start
		"stilllive": "00000000-0000-4000-8000-000000000004", // FreeSWITCH still has it
		"undecided": "00000000-0000-4000-8000-000000000005", // decision pending, no flow
	}
	for name, id := range ids {
		store.CreateCall(ctx, &consent.Call{UUID: id, CallerPseudonym: "p", StartedAt: now})
		if name == "undecided" {
			continue
		}
		path := filepath.Join(dir, id+".wav")
		if err := store.Grant(ctx, id, &consent.Proof{Digit: "1", Tries: 1}, &consent.Recording{CallUUID: id, Path: path, State: consent.RecordingPending, StartedAt: now}); err != nil {
			t.Fatal(err)
		}
		if name != "pendingok" {
			store.UpdateRecording(ctx, id, consent.RecordingRecording, consent.RecordingUpdate{})
		}
		if name != "missing" {
			recordingstest.WriteWAV(t, path, 2, 8000, -1)
			os.Chmod(path, 0o644) // as FreeSWITCH leaves it
		}
	}
	r := &consent.Reconciler{
		Store:      store,
		Control:    existsControl{live: map[string]bool{ids["stilllive"]: true}},
		Recordings: recordings.NewFolder(dir),
		Live:       consent.NewLiveCalls(),
		Now:        func() time.Time { return now },
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Finalised != 3 || res.Abandoned != 1 || res.StillLive != 1 {
		t.Errorf("result %+v", res)
	}
	for name, want := range map[string]consent.RecordingState{"good": consent.RecordingComplete, "missing": consent.RecordingFailed, "pendingok": consent.RecordingComplete, "stilllive": consent.RecordingRecording} {
		c, _ := store.FindCall(ctx, ids[name])
		if c.Recording.State != want {
			t.Errorf("%s: state %s, want %s", name, c.Recording.State, want)
		}
	}
	if c, _ := store.FindCall(ctx, ids["undecided"]); c.Decision != consent.DecisionAbandoned {
		t.Errorf("undecided call is %s, want abandoned", c.Decision)
	}
	for name, want := range map[string]os.FileMode{"good": 0o600, "pendingok": 0o600, "stilllive": 0o644} {
		if fi, err := os.Stat(filepath.Join(dir, ids[name]+".wav")); err != nil {
			t.Errorf("%s: reconcile removed a file it only had to inspect", name)
		} else if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o (R-SEC-5; a live recording is left alone)", name, fi.Mode().Perm(), want)
		}
	}
}

// panickyStore panics when a recording of the call named is updated, as a bug in finalising
// one row would.
type panickyStore struct {
	consent.ReconcileStore
	call string
}

func (s panickyStore) UpdateRecording(ctx context.Context, id string, to consent.RecordingState, u consent.RecordingUpdate) error {
	if id == s.call {
		var m map[string]int
		m[id]++ // a runtime error: assignment to entry in nil map
	}
	return s.ReconcileStore.UpdateRecording(ctx, id, to, u)
}

// recordedCall stores a granted call with a recording in state recording and its file.
func recordedCall(t *testing.T, store *sqlite.DB, dir, id string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	store.CreateCall(ctx, &consent.Call{UUID: id, CallerPseudonym: "p", StartedAt: now})
	path := filepath.Join(dir, id+".wav")
	if err := store.Grant(ctx, id, &consent.Proof{Digit: "1", Tries: 1}, &consent.Recording{CallUUID: id, Path: path, State: consent.RecordingPending, StartedAt: now}); err != nil {
		t.Fatal(err)
	}
	store.UpdateRecording(ctx, id, consent.RecordingRecording, consent.RecordingUpdate{})
	recordingstest.WriteWAV(t, path, 2, 8000, -1)
}

// A panic while one row is reconciled leaves that row for the next run and finishes the
// others; the daemon is told (OnPanic), and the panic value, which could hold call data, is
// not in the error unless it is a runtime error.
func TestReconciler_PanicInOneRow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	bad, good := "00000000-0000-4000-8000-0000000000b1", "00000000-0000-4000-8000-0000000000b2"
	store := openStore(t)
	for _, id := range []string{bad, good} {
		recordedCall(t, store, dir, id, now)
	}
	var logs bytes.Buffer
	var panics []*consent.PanicError
	r := &consent.Reconciler{
		Store:      panickyStore{store, bad},
		Control:    existsControl{},
		Recordings: recordings.NewFolder(dir),
		Live:       consent.NewLiveCalls(),
		Now:        func() time.Time { return now },
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
		OnPanic:    func(p *consent.PanicError) { panics = append(panics, p) },
	}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Finalised != 1 || res.Failed != 1 {
		t.Errorf("result %+v, want 1 finalised and 1 failed", res)
	}
	if c, _ := store.FindCall(ctx, good); c.Recording.State != consent.RecordingComplete {
		t.Errorf("the good row is %s, want complete: a panic in another row stopped the run", c.Recording.State)
	}
	if c, _ := store.FindCall(ctx, bad); c.Recording.State != consent.RecordingRecording {
		t.Errorf("the row that panicked is %s, want it left as it was", c.Recording.State)
	}
	if len(panics) != 1 || !strings.Contains(panics[0].Error(), "assignment to entry in nil map") || len(panics[0].Stack) == 0 {
		t.Errorf("OnPanic got %v", panics)
	}
	if !strings.Contains(logs.String(), bad) || !strings.Contains(logs.String(), "left for the next run") {
		t.Errorf("log does not name the row:\n%s", logs.String())
	}
	if got := (&consent.PanicError{Value: "caller +4791234567"}).Error(); strings.Contains(got, "4791234567") {
		t.Errorf("a panic's value reached its error text: %s", got)
	}
}

// Decided calls whose end no flow saw get, once FreeSWITCH no longer has them, the time
// reconcile learned it; calls FreeSWITCH still has, or a flow here still drives, keep none.
func TestReconciler_EndsCallsGone(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	started := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	now := started.Add(time.Hour)
	ids := map[string]string{
		"gone":      "00000000-0000-4000-8000-0000000000c1", // decision error, no end: FreeSWITCH lost it
		"fslive":    "00000000-0000-4000-8000-0000000000c2", // FreeSWITCH still has it
		"herelive":  "00000000-0000-4000-8000-0000000000c3", // a flow here drives it
		"pending":   "00000000-0000-4000-8000-0000000000c4", // never decided, no flow: abandoned and ended
		"ended":     "00000000-0000-4000-8000-0000000000c5", // ended already: keeps its end
		"declined2": "00000000-0000-4000-8000-0000000000c6",
	}
	live := consent.NewLiveCalls()
	live.Add(ids["herelive"])
	for name, id := range ids {
		store.CreateCall(ctx, &consent.Call{UUID: id, CallerPseudonym: "p", StartedAt: started})
		switch name {
		case "gone":
			store.DecideCall(ctx, id, consent.DecisionError, nil)
		case "pending":
		default:
			store.DecideCall(ctx, id, consent.DecisionDeclined, &consent.Proof{Digit: "2", Tries: 1})
		}
	}
	store.EndCall(ctx, ids["ended"], started.Add(time.Minute))
	r := &consent.Reconciler{
		Store:   store,
		Control: existsControl{live: map[string]bool{ids["fslive"]: true}},
		Live:    live,
		Now:     func() time.Time { return now },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if _, err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]time.Time{"gone": now, "fslive": {}, "herelive": {}, "pending": now,
		"ended": started.Add(time.Minute), "declined2": now} {
		c, _ := store.FindCall(ctx, ids[name])
		if !c.EndedAt.Equal(want) {
			t.Errorf("%s: ended at %v, want %v", name, c.EndedAt, want)
		}
	}
}

// askCounter is existsControl counting the questions.
type askCounter struct {
	existsControl
	asked map[string]int
}

func (c *askCounter) CallExists(ctx context.Context, id string) (bool, error) {
	c.asked[id]++
	return c.existsControl.CallExists(ctx, id)
}

// stuckEnds is a store whose EndCall reports success but stamps nothing.
type stuckEnds struct{ consent.ReconcileStore }

func (stuckEnds) EndCall(context.Context, string, time.Time) error { return nil }

// Calls without an end are read a page at a time, each is asked about once per run, those
// FreeSWITCH still has do not hide the ones after them, and a store that keeps returning rows it
// said it stamped cannot keep a run going for ever.
func TestReconciler_EndsCallsInPages(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	started := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ctl := &askCounter{existsControl: existsControl{live: map[string]bool{}}, asked: map[string]int{}}
	var ids []string
	for i := range 7 {
		id := fmt.Sprintf("00000000-0000-4000-8000-0000000000d%d", i)
		ids = append(ids, id)
		store.CreateCall(ctx, &consent.Call{UUID: id, CallerPseudonym: "p", StartedAt: started.Add(time.Duration(i) * time.Minute)})
		store.DecideCall(ctx, id, consent.DecisionNoInput, &consent.Proof{Tries: 3})
		if i%2 == 0 {
			ctl.live[id] = true // the newest first: the pages start with calls that stay
		}
	}
	r := &consent.Reconciler{Store: store, Control: ctl, Live: consent.NewLiveCalls(), Page: 2,
		Now: func() time.Time { return started.Add(time.Hour) }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	res, err := r.Run(ctx)
	if err != nil || res.Ended != 3 {
		t.Fatalf("Run = %+v, %v; want 3 ended", res, err)
	}
	for i, id := range ids {
		c, _ := store.FindCall(ctx, id)
		if ctl.asked[id] != 1 || c.EndedAt.IsZero() != (i%2 == 0) {
			t.Errorf("call %d: asked %d times, ended at %v", i, ctl.asked[id], c.EndedAt)
		}
	}

	r.Store = stuckEnds{store}
	for _, id := range ids {
		delete(ctl.live, id)
	}
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a store that never stamps kept the run going")
	}
}

// At start, pending calls no flow drives are abandoned without FreeSWITCH: their sockets died
// with the process before, and the dialplan's fallback took the calls. Nothing else changes.
func TestReconciler_AbandonPending(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	left, live, decided := "00000000-0000-4000-8000-0000000000e1", "00000000-0000-4000-8000-0000000000e2", "00000000-0000-4000-8000-0000000000e3"
	for _, id := range []string{left, live, decided} {
		store.CreateCall(ctx, &consent.Call{UUID: id, CallerPseudonym: "p", StartedAt: now})
	}
	store.DecideCall(ctx, decided, consent.DecisionDeclined, &consent.Proof{Digit: "2", Tries: 1})
	lc := consent.NewLiveCalls()
	lc.Add(live)
	r := &consent.Reconciler{Store: store, Control: nil, Live: lc, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))} // no Control: FreeSWITCH is not asked
	res, err := r.AbandonPending(ctx)
	if err != nil || res.Abandoned != 1 {
		t.Fatalf("AbandonPending = %+v, %v", res, err)
	}
	for id, want := range map[string]consent.Decision{left: consent.DecisionAbandoned, live: consent.DecisionPending, decided: consent.DecisionDeclined} {
		if c, _ := store.FindCall(ctx, id); c.Decision != want || !c.EndedAt.IsZero() {
			t.Errorf("%s: %s ended %v, want %s without an end", id, c.Decision, c.EndedAt, want)
		}
	}
}
