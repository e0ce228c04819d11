package retention_test

import (
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/retention"
)

// TestSweep_Simulate100Days runs the daemon's schedule on a fake clock: a sweep every 15
// minutes for 100 days, recordings made daily (one of them withdrawn, one failed). After every
// sweep, no recording that started before now − retention may exist on disk or be undeleted in
// the database: nothing survives past retention + one sweep interval (R-RETAIN-1).
func TestSweep_Simulate100Days(t *testing.T) {
	if testing.Short() {
		t.Skip("9600 sweeps")
	}
	p := retention.DefaultPolicy()
	e := newEnv(t, p)
	const interval = 15 * time.Minute
	type rec struct {
		path  string
		start time.Time
	}
	var recs []rec
	checked := 0 // recs[:checked] are past retention and were seen gone
	sweeps, deleted := 0, 0

	for e.clock.Now().Before(t0.Add(100 * day)) {
		now := e.clock.Now()
		if now.Hour() == 10 && now.Minute() == 0 {
			d := len(recs)
			state := consent.RecordingComplete
			if d == 3 {
				state = consent.RecordingFailed
			}
			u := e.uuid()
			recs = append(recs, rec{e.recording(u, "+4711111111", now, state, 64), now})
			if d == 40 {
				if _, err := e.db.Withdraw(e.ctx, consent.Withdrawal{CallUUID: u}); err != nil {
					t.Fatal(err)
				}
			}
		}
		rep, err := e.sw.Sweep(e.ctx, retention.Options{})
		if err != nil {
			t.Fatalf("sweep at %s: %v", now, err)
		}
		sweeps++
		deleted += rep.Total().Files

		cutoff := now.Add(-p.Retention)
		for checked < len(recs) && recs[checked].start.Before(cutoff) {
			if exists(t, recs[checked].path) {
				t.Fatalf("at %s: recording of %s survived retention", now, recs[checked].start)
			}
			checked++
		}
		e.clock.Advance(interval)
	}

	left, err := e.db.FindRecordings(e.ctx, consent.RecordingFilter{
		StartedBefore: e.clock.Now().Add(-p.Retention - interval),
		States:        []consent.RecordingState{consent.RecordingPending, consent.RecordingRecording, consent.RecordingComplete, consent.RecordingFailed, consent.RecordingDeleting},
	})
	if err != nil || len(left) != 0 {
		t.Fatalf("undeleted rows past retention: %v %v", left, err)
	}
	// Days 0..9 are past retention (the failed one among them went early), plus the withdrawn.
	if checked != 10 || deleted != 11 {
		t.Fatalf("checked %d past retention, deleted %d in %d sweeps", checked, deleted, sweeps)
	}
	ts := e.tombstones()
	if len(ts) != 11 || ts[recs[3].path][0].Reason != consent.ReasonFailed || ts[recs[40].path][0].Reason != consent.ReasonWithdrawal {
		t.Fatalf("tombstones: %d", len(ts))
	}
}
