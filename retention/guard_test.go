package retention_test

import (
	"errors"
	"os"
	"path/filepath"
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
