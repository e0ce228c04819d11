package retention_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/retention"
)

// TestHelperProcess is not a test: TestCrashSafety runs the test binary again with only this
// function, and it sweeps the given database and folder with a failpoint armed, so the process
// dies by SIGKILL in the middle of the deletion protocol.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("RETENTION_HELPER") != "1" {
		t.Skip("helper process for TestCrashSafety")
	}
	now, err := time.Parse(time.RFC3339Nano, os.Getenv("RETENTION_NOW"))
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	ctx := context.Background()
	db := sqlite.NewDB(os.Getenv("RETENTION_DB"))
	db.Now = clock
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	sw := retention.NewSweeper(db, os.Getenv("RETENTION_DIR"), retention.DefaultPolicy(), clock,
		slog.New(slog.NewTextHandler(os.Stderr, nil)))
	sw.BatchSize = 3 // several batches: the kill comes in the first, later ones never start
	if err := sw.Open(ctx); err != nil {
		t.Fatal(err)
	}
	sw.Sweep(ctx, retention.Options{})
	os.Exit(3) // reaching here means the failpoint did not fire
}

// failpointBinary returns a test binary of this package built with the failpoints tag: this
// one if it was, else one built now (the failpoints are not in a build without the tag).
func failpointBinary(t *testing.T) string {
	t.Helper()
	if retention.FailpointsBuilt {
		return os.Args[0]
	}
	if testing.Short() {
		t.Skip("builds a test binary with -tags " + retention.FailpointTag)
	}
	bin := filepath.Join(t.TempDir(), "retention.test")
	if out, err := exec.Command("go", "test", "-c", "-tags", retention.FailpointTag, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go test -c -tags %s: %v\n%s", retention.FailpointTag, err, out)
	}
	return bin
}

// helperSweep runs bin's TestHelperProcess on e's database and folder, a failpoint armed.
func helperSweep(e *env, bin, fp string) ([]byte, error) {
	cmd := exec.Command(bin, "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), retention.FailpointEnv+"="+fp, "RETENTION_HELPER=1",
		"RETENTION_DB="+e.db.Path(), "RETENTION_DIR="+e.dir, "RETENTION_NOW="+e.clock.Now().Format(time.RFC3339Nano))
	return cmd.CombinedOutput()
}

// A build without the failpoints tag ignores FailpointEnv: the sweep runs to its end.
func TestFailpointsNeedTheTag(t *testing.T) {
	if retention.FailpointsBuilt {
		t.Skip("this test binary has the failpoints")
	}
	e := newEnv(t, retention.DefaultPolicy())
	e.recording(e.uuid(), "+4711111111", t0, consent.RecordingComplete, 10)
	e.clock.Advance(91 * day)
	out, err := helperSweep(e, os.Args[0], retention.FailAfterMark)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("helper: %v, want exit 3 (swept to the end, no failpoint)\n%s", err, out)
	}
}

// TestCrashSafety kills a sweeping process at each step of the deletion protocol, then runs
// Open (which recovers) and one sweep in this process: no file that was due survives, no row is
// left deleting, no intent is left, and every deleted file has exactly one tombstone
// (R-RETAIN-3, R-RETAIN-4).
func TestCrashSafety(t *testing.T) {
	bin := failpointBinary(t)
	for _, tc := range []struct {
		fp       string
		withdraw bool // a withdrawn row: the helper's Open recovers it, and dies in that batch of one
		gone     int  // due files gone after the kill
	}{
		{retention.FailAfterMark, true, 0}, {retention.FailAfterUnlink, true, 1}, {retention.FailAfterFsync, true, 1},
		// No withdrawal: the kill comes in the sweep's first batch (two recordings, one orphan).
		{retention.FailAfterMark, false, 0}, {retention.FailAfterUnlink, false, 1}, {retention.FailAfterFsync, false, 3},
	} {
		fp := tc.fp
		t.Run(fmt.Sprintf("%s/withdraw=%v", fp, tc.withdraw), func(t *testing.T) {
			e := newEnv(t, retention.DefaultPolicy())
			var due []string
			for i := range 5 {
				due = append(due, e.recording(e.uuid(), "+4711111111", t0.Add(-time.Duration(i)*13*time.Hour), consent.RecordingComplete, 10))
			}
			recent := t0.Add(90 * day)
			due = append(due, e.recording(e.uuid(), "+4711111111", recent, consent.RecordingFailed, 3))
			uw := e.uuid()
			withdrawn := e.recording(uw, "+4722222222", recent, consent.RecordingComplete, 10)
			if tc.withdraw {
				due = append(due, withdrawn)
			}
			ud := e.uuid()
			e.call(ud, "+4733333333", recent, consent.DecisionDeclined)
			declined := recordings.Path(e.dir, ud, recent)
			e.file(declined, 7, recent)
			orphan := filepath.Join(e.dir, "2025", "12", "29", "orphan.wav")
			e.file(orphan, 8, t0.Add(-2*day))
			due = append(due, declined, orphan)
			young := e.recording(e.uuid(), "+4744444444", recent, consent.RecordingComplete, 10)

			e.clock.Advance(91 * day)
			if tc.withdraw {
				if _, err := e.db.Withdraw(e.ctx, consent.Withdrawal{CallUUID: uw}); err != nil {
					t.Fatal(err)
				}
			}

			out, err := helperSweep(e, bin, fp)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("helper was not killed at %s: %v\n%s", fp, err, out)
			}
			gone := 0
			for _, p := range due {
				if !exists(t, p) {
					gone++
				}
			}
			if gone != tc.gone {
				t.Fatalf("after the kill at %s, %d of %d due files are gone", fp, gone, len(due))
			}

			// Restart: Open recovers what was marked, the next sweep does the rest.
			sw := e.newSweeper(retention.DefaultPolicy())
			if err := sw.Open(e.ctx); err != nil {
				t.Fatal(err)
			}
			defer sw.Close()
			if _, err := sw.Sweep(e.ctx, retention.Options{}); err != nil {
				t.Fatal(err)
			}

			for _, p := range due {
				if exists(t, p) {
					t.Errorf("%s survived the crash and the next sweep", p)
				}
			}
			if !exists(t, young) {
				t.Errorf("young recording deleted")
			}
			deleting, err := e.db.FindRecordings(e.ctx, consent.RecordingFilter{States: []consent.RecordingState{consent.RecordingDeleting}})
			if err != nil || len(deleting) != 0 {
				t.Errorf("rows left deleting: %v %v", deleting, err)
			}
			if intents, err := e.db.FindIntents(e.ctx); err != nil || len(intents) != 0 {
				t.Errorf("intents left: %v %v", intents, err)
			}
			ts := e.tombstones()
			for _, p := range due {
				if len(ts[p]) != 1 {
					t.Errorf("%s has %d tombstones, want 1", p, len(ts[p]))
				}
			}
			if len(ts) != len(due) {
				t.Errorf("%d tombstoned paths, want %d", len(ts), len(due))
			}
		})
	}
}
