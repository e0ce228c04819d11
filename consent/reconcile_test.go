package consent_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

type existsControl struct {
	fakeControl
	live map[string]bool
}

func (c existsControl) CallExists(_ context.Context, id string) (bool, error) { return c.live[id], nil }

func TestReconciler(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := newMemStore(&eventLog{})
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
		store.DecideCall(ctx, id, consent.DecisionGranted, &consent.Proof{Digit: "1", Tries: 1})
		path := filepath.Join(dir, id+".wav")
		store.CreateRecording(ctx, &consent.Recording{CallUUID: id, Path: path, State: consent.RecordingPending, StartedAt: now})
		if name != "pendingok" {
			store.UpdateRecording(ctx, id, consent.RecordingRecording, consent.RecordingUpdate{})
		}
		if name != "missing" {
			writeWAV(t, path, 2, 8000, -1)
		}
	}
	r := &consent.Reconciler{
		Store:   store,
		Control: existsControl{live: map[string]bool{ids["stilllive"]: true}},
		Live:    consent.NewLiveCalls(),
		Now:     func() time.Time { return now },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
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
	if _, err := os.Stat(filepath.Join(dir, ids["good"]+".wav")); err != nil {
		t.Error("reconcile touched a file it only had to inspect")
	}
}
