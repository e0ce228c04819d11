package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/retention"
)

// TestProgress_OnlyOnATerminal: no bar is drawn into a pipe, a file or a buffer.
func TestProgress_OnlyOnATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0) // a character device, but no terminal
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for name, out := range map[string]io.Writer{"pipe": w, "file": f, "devnull": null, "buffer": &bytes.Buffer{}} {
		if bar := newProgressBar(out, 10, "x"); bar != nil {
			t.Errorf("%s: a progress bar on no terminal", name)
		}
	}
}

// TestSweepProgress: on a terminal the sweep's bar learns how many files are due and counts
// them as they go.
func TestSweepProgress(t *testing.T) {
	ctx := context.Background()
	cfg := trialConfig(t, "--retention", "720h")
	seedRecordings(t, cfg, 30, time.Now().Add(-40*24*time.Hour))
	seedRecordings(t, cfg, 40, time.Now().Add(-time.Hour))
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sw, err := newSweeper(cfg, st.DB, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.OpenFolder(ctx); err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	var term bytes.Buffer
	planned, stop := showProgress(drawProgressBar(&term, -1, "sweeping"), sw)
	rep, err := sw.Sweep(ctx, retention.Options{Planned: planned})
	time.Sleep(250 * time.Millisecond) // a tick of the bar after the last deletion
	stop()
	if err != nil || rep.Total().Files != 30 {
		t.Fatalf("sweep: %v, %d files", err, rep.Total().Files)
	}
	if s := term.String(); !strings.Contains(s, "deleting 30 file(s)") || !strings.Contains(s, "/30)") {
		t.Errorf("the bar did not count 30 of 30 files:\n%q", s)
	}
}
