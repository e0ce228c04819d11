package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
	"github.com/callconsent/callconsent/esl/fakefs/callmix"
)

// simulate against the in-process daemon: the newcomer's path, end to end.
func TestSimulate(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	h.fs.Close() // simulate brings its own fake FreeSWITCH on the same address
	var out, logs bytes.Buffer
	opts := simulateOptions{Calls: 30, Concurrency: 10, Mix: "consent=3,decline=1,invalid=1,early=1,hangup=1", Listen: h.fs.Addr(),
		Dial: h.d.outbound.Addr().String(), Talk: minRecording, Prompt: 50_000_000, ConnectTimeout: 20_000_000_000, Output: outputJSON}
	if err := runSimulate(h.ctx, h.cfg, opts, &out, &logs); err != nil {
		t.Fatalf("simulate: %v\n%s\n%s", err, out.String(), logs.String())
	}
	var r callmix.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Calls != 30 || r.Errors != 0 || r.Recordings == 0 || r.LatencyN != r.ByKind["consent"]+r.ByKind["invalid"] || r.LatencyP99MS <= 0 {
		t.Errorf("report %+v", r)
	}
}

// TestSimulate_Interrupted: a simulation stopped by a signal exits 130 like every other
// interrupted command, not 4 ("handled wrongly") for the calls it cut short itself.
func TestSimulate_Interrupted(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	h.fs.Close()
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	var out, logs bytes.Buffer
	opts := simulateOptions{Calls: 50, Concurrency: 5, Mix: "consent=1", Listen: h.fs.Addr(), Dial: h.d.outbound.Addr().String(),
		Talk: 5 * time.Second, Prompt: 50 * time.Millisecond, ConnectTimeout: 20 * time.Second, Output: outputTable}
	time.AfterFunc(time.Second, cancel) // calls are in flight by then: each talks 5 s
	err := runSimulate(ctx, h.cfg, opts, &out, &logs)
	if code := exitCode(err, true); code != exitInterrupted {
		t.Fatalf("interrupted simulate: exit %d (%v), want %d\n%s", code, err, exitInterrupted, out.String())
	}
}
