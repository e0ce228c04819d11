package retention_test

import (
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/retention"
)

// What the daemon exports from a sweep: one unlink time per file deleted, orphans and audio
// without a grant counted apart, and the stored time of the last sweep that acted.
func TestSweeper_MetricsHooks(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	if last, err := e.sw.LastSweep(e.ctx); err != nil || !last.IsZero() {
		t.Fatalf("LastSweep before any sweep = %v, %v; want zero", last, err)
	}
	e.recording(e.uuid(), "+4711111111", t0, consent.RecordingComplete, 10) // expired
	e.file(recordings.Path(e.dir, e.uuid(), t0), 5, t0)                     // an orphan
	declined := e.uuid()
	e.call(declined, "+4722222222", t0, consent.DecisionDeclined)
	e.file(recordings.Path(e.dir, declined, t0), 7, t0) // audio without a grant
	e.clock.Advance(91 * 24 * time.Hour)

	sw := e.newSweeper(retention.DefaultPolicy())
	var mu sync.Mutex
	var unlinks []time.Duration
	sw.OnUnlink = func(d time.Duration) { mu.Lock(); unlinks = append(unlinks, d); mu.Unlock() }
	if err := sw.Open(e.ctx); err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	rep, err := sw.Sweep(e.ctx, retention.Options{OrphanScan: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total().Files != 3 || len(unlinks) != 3 {
		t.Fatalf("deleted %d files, %d unlink times; want 3 and 3", rep.Total().Files, len(unlinks))
	}
	for _, d := range unlinks {
		if d <= 0 || d > time.Minute {
			t.Errorf("unlink time %v", d)
		}
	}
	m := sw.Metrics()
	if m.Orphans.Load() != 1 || m.NotGranted.Load() != 1 || m.Stuck.Load() != 0 {
		t.Errorf("orphans %d, not granted %d, stuck %d; want 1, 1, 0", m.Orphans.Load(), m.NotGranted.Load(), m.Stuck.Load())
	}
	if last, err := sw.LastSweep(e.ctx); err != nil || !last.Equal(e.clock.Now()) {
		t.Errorf("LastSweep = %v, %v; want %v", last, err, e.clock.Now())
	}
}
