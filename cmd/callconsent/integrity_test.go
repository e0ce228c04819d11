package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

// corruptDB writes the database's pages into its file (a checkpoint: none are left in the WAL
// to stand in for them) and overwrites pages 3 to 6 with garbage, as a failing disk would.
// restore writes the pages back.
func corruptDB(t *testing.T, st *storage) (restore func()) {
	t.Helper()
	if err := st.DB.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(st.DB.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pages := make([]byte, 4*4096)
	if _, err := f.ReadAt(pages, 2*4096); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, len(pages)), 2*4096); err != nil {
		t.Fatal(err)
	}
	return func() {
		f, err := os.OpenFile(st.DB.Path(), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(pages, 2*4096); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIntegrityCheck: the daemon's integrity check runs on its schedule and passes on a sound
// database; once the file is damaged it raises an alarm that says what to do and logs an error,
// and a later failure keeps the time the alarm was first raised. Close stops it at once.
func TestIntegrityCheck(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	seedCalls(t, cfg)
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logs := &syncBuffer{}
	c := newIntegrityCheck(st.DB, 20*time.Millisecond, slog.New(slog.NewTextHandler(logs, nil)))
	if err := c.Open(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "passed check", func() bool { return strings.Contains(logs.String(), "database integrity check passed") })
	if a, ok := c.Alarm(); ok {
		t.Fatalf("alarm on a sound database: %+v", a)
	}

	restore := corruptDB(t, st)
	waitUntil(t, "alarm", func() bool { _, ok := c.Alarm(); return ok })
	first, _ := c.Alarm()
	t.Logf("alarm: %s", first.Message)
	if first.Kind != alarmKindIntegrity || !strings.Contains(first.Message, "database failed quick_check, restore it from a backup: Tree 3 page 3") ||
		!strings.Contains(first.Message, "stop callconsent before restoring") {
		t.Errorf("alarm %+v: want %s, naming the check's finding and what to do", first, alarmKindIntegrity)
	}
	if !strings.Contains(logs.String(), `level=ERROR msg="alarm: database integrity check failed" system=integrity err="database failed quick_check, restore it from a backup: `) {
		t.Errorf("no error in the log:\n%s", logs.String())
	}
	n := strings.Count(logs.String(), "alarm: database integrity check failed")
	waitUntil(t, "second failed check", func() bool { return strings.Count(logs.String(), "alarm: database integrity check failed") > n })
	if again, _ := c.Alarm(); !again.Since.Equal(first.Since) {
		t.Errorf("alarm since %v after a second failure, want the first time %v", again.Since, first.Since)
	}

	// The file is sound again (say, a transient read error): the next check clears the alarm.
	restore()
	waitUntil(t, "cleared alarm", func() bool { _, ok := c.Alarm(); return !ok })
	if !strings.Contains(logs.String(), "the database passed its integrity check again; alarm cleared") {
		t.Errorf("the log does not say the alarm was cleared:\n%s", logs.String())
	}

	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
}

// TestE2E_IntegrityAlarm: the running daemon checks its database on its schedule; a damaged file
// is an alarm in status (exit 5), beside the calls, which go on.
func TestE2E_IntegrityAlarm(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	h.restart(func(d *daemon) { d.integrityEvery = 50 * time.Millisecond })
	h.waitFor("control connection ready", h.d.control.Ready)
	var out bytes.Buffer
	if err := runStatus(h.ctx, h.cfg, statusOptions{}, &out); err != nil {
		t.Fatalf("status of a sound daemon: %v\n%s", err, out.String())
	}

	corruptDB(t, h.d.store)
	h.waitFor("the integrity alarm", func() bool { _, ok := h.d.integrity.Alarm(); return ok })
	out.Reset()
	err := runStatus(h.ctx, h.cfg, statusOptions{}, &out)
	t.Logf("status: %v\n%s", err, out.String())
	if exitCode(err, true) != exitAlarm || !strings.Contains(err.Error(), alarmKindIntegrity) {
		t.Errorf("status: exit %d (%v), want %d naming %s", exitCode(err, true), err, exitAlarm, alarmKindIntegrity)
	}
	if !strings.Contains(out.String(), "ALARM "+alarmKindIntegrity+" since") || !strings.Contains(out.String(), "restore it from a backup") {
		t.Errorf("status output does not show the alarm:\n%s", out.String())
	}
	// Monitoring sees it too: the alarm counter by its kind, and /readyz's alarms check.
	if !strings.Contains(out.String(), `callconsent_alarms_total{kind="database-integrity"} `) ||
		strings.Contains(out.String(), `callconsent_alarms_total{kind="database-integrity"} 0`) {
		t.Errorf("alarms_total{kind=database-integrity} not counted:\n%s", out.String())
	}
	for _, c := range h.d.readiness.Checks {
		if c.Name == "alarms" {
			if err := c.Func(h.ctx); err == nil || !strings.Contains(err.Error(), alarmKindIntegrity) {
				t.Errorf("readiness alarms check = %v, want it to name %s", err, alarmKindIntegrity)
			}
		}
	}
}
