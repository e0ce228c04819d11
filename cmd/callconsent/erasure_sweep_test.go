package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/retention"
)

// trialConfig returns the configuration of a --data-dir trial in a new folder, with an empty
// recordings folder, and flags on top.
func trialConfig(t *testing.T, flags ...string) *Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := LoadConfig(filepath.Join(dir, "absent.yaml"), false, testFlags(t, append([]string{"--data-dir", dir}, flags...)...))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.RecordingsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// seedRecordings stores n granted calls whose complete recordings started at at, with their
// files, as the daemon would have; it returns their paths.
func seedRecordings(t *testing.T, cfg *Config, n int, at time.Time) []string {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var paths []string
	for i := range n {
		u := fmt.Sprintf("5eed0000-0000-4000-8000-%012d", at.Unix()%1e6*1000+int64(i))
		path := recordings.Path(cfg.RecordingsDir, u, at)
		steps := []func() error{
			func() error {
				return st.DB.CreateCall(ctx, &consent.Call{UUID: u, CallerPseudonym: st.Pseudonyms.Pseudonym("+4791234567"), StartedAt: at})
			},
			func() error {
				p := &consent.Proof{DecidedAt: at, Digit: "1", Tries: 1, NoticeVersion: "v1", NoticeSHA256: "00", Language: "nb"}
				return st.DB.Grant(ctx, u, p, &consent.Recording{CallUUID: u, Path: path, StartedAt: at})
			},
			func() error {
				return st.DB.UpdateRecording(ctx, u, consent.RecordingRecording, consent.RecordingUpdate{})
			},
			func() error {
				return st.DB.UpdateRecording(ctx, u, consent.RecordingComplete, consent.RecordingUpdate{EndedAt: at.Add(time.Minute), Bytes: 44})
			},
			func() error { return os.MkdirAll(filepath.Dir(path), 0o700) },
			func() error { return os.WriteFile(path, make([]byte, 44), 0o600) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		paths = append(paths, path)
	}
	return paths
}

// countExisting returns how many of paths exist.
func countExisting(t *testing.T, paths []string) int {
	n := 0
	for _, p := range paths {
		if fileExists(t, p) {
			n++
		}
	}
	return n
}

// A dry run opens the store read-only and changes no file and no row: a committed withdrawal
// whose file is still there stays as it is (before, opening the sweeper recovered it: unlinked
// the file and wrote the tombstone). A missing database is an error, not a new file.
func TestSweepDryRun_ChangesNothing(t *testing.T) {
	ctx := context.Background()
	cfg := trialConfig(t)
	paths := seedRecordings(t, cfg, 2, time.Now().Add(-time.Hour))
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	u := strings.TrimSuffix(filepath.Base(paths[0]), ".wav")
	if _, err := st.DB.Withdraw(ctx, consent.Withdrawal{CallUUID: u, Reason: "ticket"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(cfg.DB)
	if err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := runSweep(ctx, cfg, sweepOptions{DryRun: true}, &out, io.Discard); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if !strings.Contains(out.String(), "would delete: 1 file(s)") {
		t.Errorf("dry run output:\n%s", out.String())
	}
	if countExisting(t, paths) != 2 {
		t.Fatal("the dry run deleted a file")
	}
	if after, err := os.ReadFile(cfg.DB); err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the dry run changed the database file (err %v)", err)
	}
	if fi, err := os.Stat(cfg.DB + "-wal"); err == nil && fi.Size() != 0 {
		t.Fatalf("the dry run wrote %d bytes to the WAL", fi.Size())
	}
	if s := findCall(t, cfg, u).Recording.State; s != consent.RecordingDeleting {
		t.Fatalf("withdrawn recording is %s after the dry run, want deleting", s)
	}

	t.Run("ErrNoDatabase", func(t *testing.T) {
		dir := t.TempDir()
		code, _, stderr := runArgs(t, dir, "sweep", "--dry-run")
		if code != exitNotFound || !strings.Contains(stderr, "no database at "+filepath.Join(dir, "callconsent.db")) {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		for _, name := range []string{"callconsent.db", "pseudonym.key"} {
			if fileExists(t, filepath.Join(dir, name)) {
				t.Errorf("a dry run created %s", name)
			}
		}
	})
}

// Retention shortened: the share guard holds the sweep back. A dry run reports what is due AND
// that the guard would hold it back, naming the real flag; the sweep exits 4 saying the same;
// `sweep --force` deletes and stores the approval, after which a sweep under the same settings
// proceeds even past the share (R-RETAIN-1).
func TestSweep_ShareGuard(t *testing.T) {
	ctx := context.Background()
	cfg := trialConfig(t, "--retention", "720h")
	expired := seedRecordings(t, cfg, 143, time.Now().Add(-40*24*time.Hour))
	seedRecordings(t, cfg, 57, time.Now().Add(-time.Hour))

	for _, dry := range []bool{true, false} {
		var out bytes.Buffer
		err := runSweep(ctx, cfg, sweepOptions{DryRun: dry}, &out, io.Discard)
		msg := errorText(err)
		if exitCode(err, true) != exitConflict || !strings.Contains(msg, "143 of 200") || !strings.Contains(msg, "`callconsent sweep --force`") {
			t.Fatalf("dry run %v: exit %d, %q", dry, exitCode(err, true), msg)
		}
		want := []string{"deleted: 0 file(s)", "held back 143 file(s)"}
		if dry {
			want = []string{"would delete: 143 file(s)", "a sweep now would hold back 143"}
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("dry run %v: output lacks %q:\n%s", dry, w, out.String())
			}
		}
		if countExisting(t, expired) != 143 {
			t.Fatalf("dry run %v: a held back sweep deleted", dry)
		}
	}

	var out bytes.Buffer
	if err := runSweep(ctx, cfg, sweepOptions{Force: true}, &out, io.Discard); err != nil || countExisting(t, expired) != 0 {
		t.Fatalf("forced sweep: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "approval stored") {
		t.Errorf("forced sweep output:\n%s", out.String())
	}
	// The override is audited: who forced it, and that it ended well (issue 9).
	if audit := auditTable(t, cfg.DB); !strings.Contains(audit, hostActor().Name+" force-sweep ") || strings.Count(audit, " force-sweep ") != 1 {
		t.Errorf("forced sweep not audited once:\n%s", audit)
	}
	// More recordings expire in bulk under the same settings: no operator needed again.
	later := seedRecordings(t, cfg, 150, time.Now().Add(-31*24*time.Hour))
	out.Reset()
	if err := runSweep(ctx, cfg, sweepOptions{}, &out, io.Discard); err != nil || countExisting(t, later) != 0 {
		t.Fatalf("sweep under the approved settings: %v\n%s", err, out.String())
	}
}

// A stored last-sweep time in the future holds new deletions back with a clear error and hint,
// in a dry run too, and is discarded after one sweep interval instead of for months.
func TestSweep_ClockGuard(t *testing.T) {
	ctx := context.Background()
	cfg := trialConfig(t, "--sweep-schedule", "@every 1s")
	expired := seedRecordings(t, cfg, 1, time.Now().Add(-330*24*time.Hour))
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DB.SetSweepState(ctx, "last-sweep", time.Now().Add(300*24*time.Hour).UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	st.Close()

	for _, dry := range []bool{true, false} {
		var out bytes.Buffer
		err := runSweep(ctx, cfg, sweepOptions{DryRun: dry}, &out, io.Discard)
		if exitCode(err, true) != exitConflict || !strings.Contains(errorText(err), "wall clock is before the last sweep") ||
			!strings.Contains(errorText(err), "`callconsent sweep --force`") {
			t.Fatalf("dry run %v: exit %d, %v", dry, exitCode(err, true), err)
		}
		if dry && !strings.Contains(out.String(), "would delete: 1 file(s)") {
			t.Errorf("dry run output:\n%s", out.String())
		}
		if countExisting(t, expired) != 1 {
			t.Fatal("deleted under the clock guard")
		}
	}
	time.Sleep(1100 * time.Millisecond) // one interval of the schedule
	var out bytes.Buffer
	if err := runSweep(ctx, cfg, sweepOptions{}, &out, io.Discard); err != nil || countExisting(t, expired) != 0 {
		t.Fatalf("sweep one interval later: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ALARM: the stored time of the last sweep") {
		t.Errorf("the discard is not reported:\n%s", out.String())
	}
}

// The daemon's scheduled sweep held back by the share guard is an alarm: status lists it and
// exits 5. After an operator's `sweep --force`, the next scheduled sweep under the same
// settings proceeds and the alarm ends.
func TestStatus_GuardAlarm(t *testing.T) {
	h := startHarness(t, fakefs.Config{}, "--retention", "720h")
	seedRecordings(t, h.cfg, 150, time.Now().Add(-40*24*time.Hour))
	if _, err := h.d.sweeper.Sweep(h.ctx, retention.Options{}); !errors.Is(err, retention.ErrTooMany) {
		t.Fatalf("scheduled sweep: %v, want the share guard", err)
	}
	var out bytes.Buffer
	err := runStatus(h.ctx, h.cfg, statusOptions{}, &out)
	if exitCode(err, true) != exitAlarm || !strings.Contains(out.String(), "ALARM guard since") || !strings.Contains(out.String(), "150 of 150") {
		t.Fatalf("status: exit %d, %v\n%s", exitCode(err, true), err, out.String())
	}

	if err := runSweep(h.ctx, h.cfg, sweepOptions{Force: true}, io.Discard, io.Discard); err != nil {
		t.Fatalf("forced sweep: %v", err)
	}
	later := seedRecordings(t, h.cfg, 150, time.Now().Add(-35*24*time.Hour))
	if rep, err := h.d.sweeper.Sweep(h.ctx, retention.Options{}); err != nil || rep.Total().Files != 150 || countExisting(t, later) != 0 {
		t.Fatalf("scheduled sweep after the approval: %v %+v", err, rep)
	}
	out.Reset()
	if err := runStatus(h.ctx, h.cfg, statusOptions{}, &out); err != nil || !strings.Contains(out.String(), "alarms: none") {
		t.Fatalf("status after the approval: %v\n%s", err, out.String())
	}
}
