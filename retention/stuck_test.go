package retention_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/retention"
)

// TestSweeper_StuckFile: one file that cannot be deleted (its day folder is a symlink, or not
// writable) blocks only itself. Open still succeeds, a sweep deletes everything else, reports
// the file with its path as an alarm and wraps ErrIncomplete (a conflict: exit 4); every sweep
// retries it, and once the folder is repaired it is deleted and the alarm ends.
func TestSweeper_StuckFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(t *testing.T, dayDir string) (repair func())
	}{
		{"Symlink", func(t *testing.T, dayDir string) func() {
			moved := filepath.Join(filepath.Dir(dayDir), "moved")
			if err := os.Rename(dayDir, moved); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("moved", dayDir); err != nil {
				t.Fatal(err)
			}
			return func() {
				if err := os.Remove(dayDir); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(moved, dayDir); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"NotWritable", func(t *testing.T, dayDir string) func() {
			if os.Geteuid() == 0 {
				t.Skip("root writes to every folder")
			}
			if err := os.Chmod(dayDir, 0o500); err != nil {
				t.Fatal(err)
			}
			return func() { os.Chmod(dayDir, 0o700) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, retention.DefaultPolicy())
			recent := t0.Add(80 * day)
			uStuck, uOther := e.uuid(), e.uuid()
			stuck := e.recording(uStuck, "+4711111111", recent, consent.RecordingComplete, 10)
			other := e.recording(uOther, "+4722222222", recent.Add(day), consent.RecordingComplete, 10)
			old := e.recording(e.uuid(), "+4733333333", t0, consent.RecordingComplete, 10)
			young := e.recording(e.uuid(), "+4744444444", recent, consent.RecordingComplete, 10)
			e.clock.Advance(91 * day)
			for _, u := range []string{uStuck, uOther} {
				if _, err := e.db.Withdraw(e.ctx, consent.Withdrawal{CallUUID: u, Reason: "caller asked"}); err != nil {
					t.Fatal(err)
				}
			}
			repair := tc.breakIt(t, filepath.Dir(stuck))
			rel, _ := filepath.Rel(e.dir, stuck)

			// A restart: Open recovers the committed withdrawals, and the stuck one does not
			// keep the sweeper (the daemon, a sweep, a withdrawal) from opening.
			sw := e.newSweeper(retention.DefaultPolicy())
			if err := sw.Open(e.ctx); err != nil {
				t.Fatalf("Open with one stuck file: %v", err)
			}
			defer sw.Close()
			if exists(t, other) || e.state(uOther) != consent.RecordingDeleted {
				t.Fatal("the other withdrawal was not finished at Open")
			}

			for i := range 2 {
				rep, err := sw.Sweep(e.ctx, retention.Options{})
				if !errors.Is(err, retention.ErrIncomplete) || consent.ErrorCode(err) != consent.ECONFLICT {
					t.Fatalf("sweep %d: %v, want ErrIncomplete as a conflict", i, err)
				}
				if !strings.Contains(consent.ErrorMessage(err), rel) {
					t.Errorf("sweep %d: error does not name %s: %v", i, rel, err)
				}
				if exists(t, old) || !exists(t, young) {
					t.Fatalf("sweep %d: the rest of the sweep did not proceed: old exists %v, young exists %v", i, exists(t, old), exists(t, young))
				}
				if len(rep.Stuck) != 1 || rep.Stuck[0].Path != rel || rep.Stuck[0].Reason != consent.ReasonWithdrawal || rep.Stuck[0].Error == "" {
					t.Fatalf("sweep %d: stuck %+v", i, rep.Stuck)
				}
				if !exists(t, stuck) || e.state(uStuck) != consent.RecordingDeleting {
					t.Fatalf("sweep %d: the stuck file must stay committed for the next sweep", i)
				}
				alarms := sw.Alarms()
				if len(alarms) != 1 || alarms[0].Kind != retention.AlarmKindStuck || len(alarms[0].Files) != 1 ||
					!strings.HasPrefix(alarms[0].Files[0], rel+" (withdrawal): ") {
					t.Fatalf("sweep %d: alarms %+v", i, alarms)
				}
				e.clock.Advance(15 * 60e9)
			}
			if n := sw.Metrics().Alarms.Load(); n != 1 {
				t.Errorf("alarms counted %d times, want once for one stuck file", n)
			}
			if n := sw.Metrics().Stuck.Load(); n != 1 {
				t.Errorf("stuck files counted %d times, want once for one file stuck over two sweeps", n)
			}

			repair()
			if rep, err := sw.Sweep(e.ctx, retention.Options{}); err != nil || len(rep.Stuck) != 0 {
				t.Fatalf("sweep after the repair: %v %+v", err, rep.Stuck)
			}
			if exists(t, stuck) || e.state(uStuck) != consent.RecordingDeleted || len(e.tombstones()[stuck]) != 1 {
				t.Fatal("stuck file not deleted once it could be")
			}
			if a := sw.Alarms(); len(a) != 0 {
				t.Fatalf("alarms after the repair: %+v", a)
			}
		})
	}
}
