package retention_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/retention"
)

// TestSweep_Reasons puts one file of every kind on disk and checks that one sweep deletes
// exactly the due ones, with the right tombstone each, and that a second sweep changes nothing.
func TestSweep_Reasons(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	uOld, uYoung, uWithdrawn, uFailed, uDeclined, uOrphan := e.uuid(), e.uuid(), e.uuid(), e.uuid(), e.uuid(), e.uuid()
	recent := t0.Add(90 * day)
	old := e.recording(uOld, "+4711111111", t0, consent.RecordingComplete, 100)
	young := e.recording(uYoung, "+4722222222", recent, consent.RecordingComplete, 200)
	withdrawn := e.recording(uWithdrawn, "+4733333333", recent, consent.RecordingComplete, 300)
	failed := e.recording(uFailed, "+4744444444", recent.Add(time.Hour), consent.RecordingFailed, 40)
	e.call(uDeclined, "+4755555555", recent, consent.DecisionDeclined)
	declined := recordings.Path(e.dir, uDeclined, recent)
	e.file(declined, 50, recent)
	orphan := recordings.Path(e.dir, uOrphan, t0.Add(31*day))
	e.file(orphan, 60, t0.Add(31*day))
	stray := filepath.Join(e.dir, "2025", "12", "31", "stray.wav")
	e.file(stray, 70, t0.Add(-day))

	e.clock.Advance(91*day + 12*time.Hour)
	if _, err := e.db.Withdraw(e.ctx, consent.Withdrawal{CallUUID: uWithdrawn, Reason: "caller asked"}); err != nil {
		t.Fatal(err)
	}
	rep := e.sweep(retention.Options{})

	for _, p := range []string{old, withdrawn, failed, declined, orphan, stray} {
		if exists(t, p) {
			t.Errorf("%s survived the sweep", p)
		}
	}
	if !exists(t, young) {
		t.Errorf("young recording deleted")
	}
	want := map[string]consent.DeletionReason{old: consent.ReasonRetention, withdrawn: consent.ReasonWithdrawal,
		failed: consent.ReasonFailed, declined: consent.ReasonNotGranted, orphan: consent.ReasonOrphan, stray: consent.ReasonOrphan}
	ts := e.tombstones()
	for p, reason := range want {
		if len(ts[p]) != 1 || ts[p][0].Reason != reason {
			t.Errorf("%s: tombstones %v, want one with reason %s", p, ts[p], reason)
		}
	}
	if len(ts) != len(want) {
		t.Errorf("got %d tombstoned paths, want %d", len(ts), len(want))
	}
	if ts[old][0].Bytes != 100 || ts[old][0].CallUUID != uOld || ts[stray][0].CallUUID != "" {
		t.Errorf("tombstone fields: %+v %+v", ts[old][0], ts[stray][0])
	}
	if rep.Deleted[consent.ReasonOrphan].Files != 2 || rep.Total().Files != 6 || rep.NotGranted != 1 || rep.Errors != 0 || !rep.OrphanScan {
		t.Errorf("report %+v", rep)
	}
	if got := e.sw.Metrics().NotGranted.Load(); got != 1 {
		t.Errorf("not-granted metric %d", got)
	}
	for u, want := range map[string]consent.RecordingState{uOld: "purged", uWithdrawn: consent.RecordingDeleted,
		uFailed: consent.RecordingDeleted, uYoung: consent.RecordingComplete} {
		if got := e.state(u); got != want {
			t.Errorf("recording %s is %s, want %s", u, got, want)
		}
	}
	// Emptied folders wholly before the cutoff are gone, the month in use stays.
	for _, p := range []string{"2025", "2026/01/01"} {
		if exists(t, filepath.Join(e.dir, p)) {
			t.Errorf("emptied old folder %s not removed", p)
		}
	}
	if !exists(t, filepath.Join(e.dir, "2026", "04")) {
		t.Errorf("recent folder removed")
	}

	e.clock.Advance(15 * time.Minute)
	rep = e.sweep(retention.Options{})
	if rep.Total().Files != 0 || len(e.tombstones()) != len(want) {
		t.Errorf("second sweep changed things: %+v", rep)
	}
}

// TestSweep_DryRun reports what is due and touches nothing.
func TestSweep_DryRun(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	u := e.uuid()
	p := e.recording(u, "+4711111111", t0, consent.RecordingComplete, 10)
	e.clock.Advance(91 * day)
	rep := e.sweep(retention.Options{DryRun: true})
	if !exists(t, p) || e.state(u) != consent.RecordingComplete || len(e.tombstones()) != 0 {
		t.Fatal("dry run deleted")
	}
	if len(rep.Planned) != 1 || rep.Planned[0].Reason != consent.ReasonRetention || rep.Total().Files != 1 {
		t.Fatalf("planned %+v", rep.Planned)
	}
	// as-of looks ahead without deleting, and is refused outside a dry run.
	e2 := newEnv(t, retention.DefaultPolicy())
	e2.recording(e2.uuid(), "+4711111111", t0, consent.RecordingComplete, 10)
	if rep := e2.sweep(retention.Options{DryRun: true, AsOf: t0.Add(100 * day)}); rep.Total().Files != 1 {
		t.Fatalf("as-of dry run: %+v", rep)
	}
	if _, err := e2.sw.Sweep(e2.ctx, retention.Options{AsOf: t0.Add(100 * day)}); consent.ErrorCode(err) != consent.EINVALID {
		t.Fatalf("as-of without dry run: %v", err)
	}
}

// TestSweep_OrphanScan: an orphan in a recent folder is found by the rarer full scan only.
func TestSweep_OrphanScan(t *testing.T) {
	p := retention.DefaultPolicy()
	e := newEnv(t, p)
	e.clock.Advance(10 * day)
	e.sweep(retention.Options{}) // the first sweep scans, and remembers when
	orphan := recordings.Path(e.dir, e.uuid(), e.clock.Now().Add(-2*day))
	e.file(orphan, 1, e.clock.Now().Add(-2*day))

	e.clock.Advance(time.Hour)
	if rep := e.sweep(retention.Options{}); rep.OrphanScan || !exists(t, orphan) {
		t.Fatalf("regular sweep scanned the recent folders: %+v", rep)
	}
	if rep := e.sweep(retention.Options{OrphanScan: true}); !rep.OrphanScan || exists(t, orphan) {
		t.Fatalf("orphan scan on request did not delete the orphan: %+v", rep)
	}
	orphan2 := recordings.Path(e.dir, e.uuid(), e.clock.Now().Add(-2*day))
	e.file(orphan2, 1, e.clock.Now().Add(-2*day))
	e.clock.Advance(p.OrphanScanEvery)
	if rep := e.sweep(retention.Options{}); !rep.OrphanScan || exists(t, orphan2) {
		t.Fatalf("orphan scan not run after OrphanScanEvery: %+v", rep)
	}
}

// TestSweep_WithdrawalPseudonym follows a caller's pseudonym: after a withdrawal and a sweep
// no recording of theirs is left; once the call is past retention, purge and checkpoint leave
// the pseudonym nowhere in the database files, while the tombstone stays.
func TestSweep_WithdrawalPseudonym(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	number := "+4798765432"
	pseudo := pseudonyms.Pseudonym(number)
	u := e.uuid()
	path := e.recording(u, number, t0, consent.RecordingComplete, 10)
	e.recording(e.uuid(), "+4711111111", t0.Add(5*day), consent.RecordingComplete, 10)
	e.clock.Advance(time.Hour)
	if _, err := e.db.Withdraw(e.ctx, consent.Withdrawal{CallUUID: u}); err != nil {
		t.Fatal(err)
	}
	rep := e.sweep(retention.Options{})
	if exists(t, path) || rep.Deleted[consent.ReasonWithdrawal].Files != 1 {
		t.Fatalf("withdrawn recording not deleted: %+v", rep)
	}
	recs, err := e.db.FindRecordings(e.ctx, consent.RecordingFilter{CallerPseudonym: pseudo})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.State != consent.RecordingDeleted {
			t.Fatalf("caller still has a recording in state %s", r.State)
		}
	}

	e.clock.Advance(91 * day)
	rep = e.sweep(retention.Options{})
	if rep.Purged < 1 {
		t.Fatalf("no call purged: %+v", rep)
	}
	if c, err := e.db.FindCalls(e.ctx, consent.CallFilter{CallerPseudonym: pseudo}); err != nil || len(c) != 0 {
		t.Fatalf("calls of the caller after purge: %v %v", c, err)
	}
	for _, suffix := range []string{"", "-wal"} {
		buf, err := os.ReadFile(e.db.Path() + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(buf, []byte(pseudo)) {
			t.Errorf("pseudonym still in the database file%s after purge and checkpoint", suffix)
		}
	}
	if ts := e.tombstones()[path]; len(ts) != 1 || ts[0].Reason != consent.ReasonWithdrawal {
		t.Errorf("tombstone lost with the purge: %v", ts)
	}
}

// TestSweep_Reappeared: a file of a recording that is deleted already (restored from a backup)
// is deleted again with an alarm, and its tombstone is not written twice.
func TestSweep_Reappeared(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	u := e.uuid()
	path := e.recording(u, "+4711111111", t0, consent.RecordingFailed, 10)
	e.clock.Advance(time.Hour)
	e.sweep(retention.Options{})
	if exists(t, path) || e.state(u) != consent.RecordingDeleted {
		t.Fatal("failed recording not deleted")
	}
	e.file(path, 10, t0) // back from a backup
	e.clock.Advance(time.Hour)
	rep := e.sweep(retention.Options{OrphanScan: true})
	if exists(t, path) || rep.Alarms != 1 || rep.Total().Files != 1 {
		t.Fatalf("reappeared file: exists=%v report %+v", exists(t, path), rep)
	}
	if ts := e.tombstones()[path]; len(ts) != 1 {
		t.Fatalf("%d tombstones", len(ts))
	}
}

// TestSweeper_PolicyRefused: a policy that would make everything due is refused at Open.
func TestSweeper_PolicyRefused(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	p := retention.DefaultPolicy()
	p.Retention = 0
	if err := e.newSweeper(p).Open(e.ctx); consent.ErrorCode(err) != consent.EINVALID {
		t.Fatalf("zero retention: %v", err)
	}
}
