package retention_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/retention"
)

// TestGuard_RecordingsDir: a missing folder fails Open and Sweep loudly, never "0 deleted".
func TestGuard_RecordingsDir(t *testing.T) {
	t.Run("ErrMissingAtOpen", func(t *testing.T) {
		e := newEnv(t, retention.DefaultPolicy())
		sw := retention.NewSweeper(e.db, filepath.Join(t.TempDir(), "nope"), retention.DefaultPolicy(), e.clock.Now, nil)
		if err := sw.Open(e.ctx); !errors.Is(err, retention.ErrRecordingsDir) {
			t.Fatalf("Open: %v", err)
		}
		if sw.Metrics().GuardDir.Load() != 1 {
			t.Fatal("no metric")
		}
	})
	t.Run("ErrRemovedAfterOpen", func(t *testing.T) {
		e := newEnv(t, retention.DefaultPolicy())
		e.recording(e.uuid(), "+4711111111", t0, consent.RecordingComplete, 1)
		if err := os.RemoveAll(e.dir); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(91 * day)
		rep, err := e.sw.Sweep(e.ctx, retention.Options{})
		if !errors.Is(err, retention.ErrRecordingsDir) || rep.Total().Files != 0 {
			t.Fatalf("sweep of a removed folder: %v %+v", err, rep)
		}
	})
	t.Run("ErrUnreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads every folder")
		}
		e := newEnv(t, retention.DefaultPolicy())
		os.Chmod(e.dir, 0)
		defer os.Chmod(e.dir, 0o700)
		if _, err := e.sw.Sweep(e.ctx, retention.Options{}); !errors.Is(err, retention.ErrRecordingsDir) {
			t.Fatalf("sweep of an unreadable folder: %v", err)
		}
	})
}

// TestGuard_ClockBackwards: a wall clock before the last sweep stored in the database skips
// new deletions (a withdrawal still finishes) until the clock is past it again or Force is given.
func TestGuard_ClockBackwards(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	old := e.recording(e.uuid(), "+4711111111", t0, consent.RecordingComplete, 1)
	u := e.uuid()
	w := e.recording(u, "+4722222222", t0.Add(80*day), consent.RecordingComplete, 1)
	e.clock.Advance(85 * day)
	e.sweep(retention.Options{})
	if _, err := e.db.Withdraw(e.ctx, consent.Withdrawal{CallUUID: u}); err != nil {
		t.Fatal(err)
	}
	// The last sweep ran with a clock set ahead; the clock is right again, hence behind it.
	if err := e.db.SetSweepState(e.ctx, "last-sweep", t0.Add(96*day).Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * day) // old is due now
	rep, err := e.sw.Sweep(e.ctx, retention.Options{})
	if !errors.Is(err, retention.ErrClockBackwards) || rep.Skipped == "" {
		t.Fatalf("want ErrClockBackwards, got %v", err)
	}
	if !exists(t, old) || exists(t, w) {
		t.Fatalf("guarded sweep: expired deleted=%v, withdrawn kept=%v", !exists(t, old), exists(t, w))
	}
	if e.sw.Metrics().GuardClockBackwards.Load() != 1 {
		t.Fatal("no metric")
	}
	if _, err := e.sw.Sweep(e.ctx, retention.Options{Force: true}); err != nil || exists(t, old) {
		t.Fatalf("forced sweep: %v", err)
	}
}

// TestGuard_ClockJump: the wall clock running a day ahead of the monotonic clock between two
// sweeps of one process skips new deletions, as long as the clocks disagree.
func TestGuard_ClockJump(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	old := e.recording(e.uuid(), "+4711111111", t0, consent.RecordingComplete, 1)
	e.clock.Advance(89 * day)
	e.sweep(retention.Options{})
	e.clock.Advance(15 * time.Minute)
	e.clock.Set(e.clock.Now().Add(2 * day)) // NTP gone mad: two days ahead
	for range 2 {
		if _, err := e.sw.Sweep(e.ctx, retention.Options{}); !errors.Is(err, retention.ErrClockJump) || !exists(t, old) {
			t.Fatalf("want ErrClockJump and nothing deleted, got %v", err)
		}
		e.clock.Advance(15 * time.Minute)
	}
	if e.sw.Metrics().GuardClockJump.Load() != 2 {
		t.Fatal("metric")
	}
	e.clock.Set(e.clock.Now().Add(-2 * day)) // corrected
	e.sweep(retention.Options{})
	if !exists(t, old) {
		t.Fatal("recording deleted before its time")
	}
	e.clock.Advance(2 * day) // real time passes: now it is due
	e.sweep(retention.Options{})
	if exists(t, old) {
		t.Fatal("recording not deleted once due")
	}
}

// TestGuard_Share: deleting more than MaxDeleteShare of all recordings at once is refused
// without Force; exactly the share is allowed.
func TestGuard_Share(t *testing.T) {
	p := retention.DefaultPolicy()
	p.MaxDeleteFloor = 2
	for _, tc := range []struct {
		expired int
		want    error
	}{{5, nil}, {6, retention.ErrTooMany}} {
		e := newEnv(t, p)
		for i := range 10 {
			at := t0.Add(80 * day)
			if i < tc.expired {
				at = t0.Add(time.Duration(i) * time.Hour)
			}
			e.recording(e.uuid(), "+4711111111", at, consent.RecordingComplete, 1)
		}
		e.clock.Advance(91 * day)
		rep, err := e.sw.Sweep(e.ctx, retention.Options{})
		if !errors.Is(err, tc.want) {
			t.Fatalf("%d of 10: got %v, want %v", tc.expired, err, tc.want)
		}
		if tc.want == nil {
			continue
		}
		if rep.Total().Files != 0 || e.sw.Metrics().GuardShare.Load() != 1 {
			t.Fatalf("refused sweep deleted: %+v", rep)
		}
		if rep, err = e.sw.Sweep(e.ctx, retention.Options{Force: true}); err != nil || rep.Total().Files != tc.expired {
			t.Fatalf("forced: %v %+v", err, rep)
		}
	}
}

// TestGuard_ShareApproval: after retention is shortened, most recordings are due at once and
// the share guard holds the sweep back, as an alarm. An operator's forced sweep stores its
// approval (when, retention, counts), and later sweeps under the same settings proceed even
// when they again pass the share; a changed retention needs a new approval.
func TestGuard_ShareApproval(t *testing.T) {
	p := retention.DefaultPolicy()
	p.MaxDeleteFloor = 2
	p.Retention = 30 * day // shortened from 90 days
	e := newEnv(t, p)
	var late []string
	for i := range 10 {
		at := t0.Add(time.Duration(i) * time.Hour) // 6 expire now
		if i >= 6 {
			at = t0.Add(40*day + time.Duration(i)*time.Hour) // 4 expire together, 40 days later
		}
		path := e.recording(e.uuid(), "+4711111111", at, consent.RecordingComplete, 1)
		if i >= 6 {
			late = append(late, path)
		}
	}
	e.clock.Advance(31 * day)
	rep, err := e.sw.Sweep(e.ctx, retention.Options{})
	if !errors.Is(err, retention.ErrTooMany) || rep.HeldBack != 6 || rep.Total().Files != 0 {
		t.Fatalf("shortened retention: %v, held back %d, deleted %d", err, rep.HeldBack, rep.Total().Files)
	}
	if a := e.sw.Alarms(); len(a) != 1 || a[0].Kind != retention.AlarmKindGuard || !strings.Contains(a[0].Message, "6 of 10") {
		t.Fatalf("alarms of a held back sweep: %+v", a)
	}

	rep, err = e.sw.Sweep(e.ctx, retention.Options{Force: true})
	if err != nil || rep.Total().Files != 6 || !strings.Contains(rep.Approval, "approval stored") {
		t.Fatalf("forced sweep: %v %+v", err, rep)
	}
	if a := e.sw.Alarms(); len(a) != 0 {
		t.Fatalf("alarm after the forced sweep: %+v", a)
	}
	v, err := e.db.SweepState(e.ctx, "share-approval")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"retention":"720h0m0s"`, `"files":6`, `"total":10`, `"at":"` + e.clock.Now().Format("2006-01-02")} {
		if !strings.Contains(v, want) {
			t.Errorf("stored approval %s lacks %s", v, want)
		}
	}

	// 40 days on, the 4 remaining recordings expire together: 4 of 4, over the share again.
	e.clock.Advance(40 * day)
	rep, err = e.sw.Sweep(e.ctx, retention.Options{})
	if err != nil || rep.Total().Files != 4 || !strings.Contains(rep.Approval, "share guard passed") {
		t.Fatalf("scheduled sweep under the approved settings: %v %+v", err, rep)
	}
	for _, p := range late {
		if exists(t, p) {
			t.Errorf("%s survived retention under an approval", p)
		}
	}

	// Another retention is another decision: the approval does not cover it.
	p2 := p
	p2.Retention = 20 * day
	sw := e.newSweeper(p2)
	if err := sw.Open(e.ctx); err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	for range 3 {
		e.recording(e.uuid(), "+4711111111", e.clock.Now().Add(-25*day), consent.RecordingComplete, 1)
	}
	if _, err := sw.Sweep(e.ctx, retention.Options{}); !errors.Is(err, retention.ErrTooMany) {
		t.Fatalf("sweep under another retention: %v, want the share guard", err)
	}
}

// TestGuard_ClockFuture: a stored last-sweep time in the future (written once while the clock
// ran ahead) holds new deletions back for one sweep interval, as an alarm, and is then
// discarded with an alarm; the 11-month-old recording it held back is deleted. It does not
// hold retention back until the real time reaches it.
func TestGuard_ClockFuture(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	old := e.recording(e.uuid(), "+4711111111", t0, consent.RecordingComplete, 1)
	e.clock.Advance(330 * day) // 11 months
	future := e.clock.Now().Add(300 * day)
	if err := e.db.SetSweepState(e.ctx, "last-sweep", future.Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	for range 3 { // within one interval (15 minutes)
		rep, err := e.sw.Sweep(e.ctx, retention.Options{})
		if !errors.Is(err, retention.ErrClockBackwards) || !exists(t, old) || rep.HeldBack != 1 {
			t.Fatalf("within the interval: %v, exists %v, held back %d", err, exists(t, old), rep.HeldBack)
		}
		if a := e.sw.Alarms(); len(a) != 1 || a[0].Kind != retention.AlarmKindGuard {
			t.Fatalf("alarms %+v", a)
		}
		e.clock.Advance(5 * time.Minute)
	}
	// A dry run now says what it would delete and that the guard would hold it back.
	rep, err := e.sw.Sweep(e.ctx, retention.Options{DryRun: true})
	if !errors.Is(err, retention.ErrClockBackwards) || rep.Total().Files != 1 || rep.HeldBack != 1 || !exists(t, old) {
		t.Fatalf("dry run: %v %+v", err, rep)
	}
	rep, err = e.sw.Sweep(e.ctx, retention.Options{})
	if err != nil || exists(t, old) || rep.ClockReset == "" {
		t.Fatalf("after one interval: %v, exists %v, %+v", err, exists(t, old), rep)
	}
	if e.sw.Metrics().ClockDiscarded.Load() != 1 || len(e.sw.Alarms()) != 0 {
		t.Fatalf("discard not counted, or alarm left: %+v", e.sw.Alarms())
	}
	if v, _ := e.db.SweepState(e.ctx, "last-sweep"); v != e.clock.Now().Format(time.RFC3339Nano) {
		t.Fatalf("last sweep %s, want now", v)
	}
}
