package retention_test

import (
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/retention"
)

// A complete recording's size was taken from its file when it was finalised, and the file is
// not written after: the sweep takes it from the row and stats no such file (most of a
// retention sweep's files). A recording still live when it was withdrawn has a stale size in its
// row: its file is measured, and the tombstone holds what was removed.
func TestSweep_SizeOfCompleteFromRow(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	complete := e.recording(e.uuid(), "+4711111111", t0, consent.RecordingComplete, 100)
	e.file(complete, 7, t0) // a different size on disk: the row's is the one kept
	uLive := e.uuid()
	live := e.recording(uLive, "+4722222222", t0.Add(time.Hour), consent.RecordingFailed, 0)
	e.file(live, 55, t0.Add(time.Hour))
	e.clock.Advance(91 * day)
	e.sweep(retention.Options{})
	ts := e.tombstones()
	if len(ts[complete]) != 1 || ts[complete][0].Bytes != 100 {
		t.Errorf("complete recording: tombstones %+v, want one of the row's 100 bytes", ts[complete])
	}
	if len(ts[live]) != 1 || ts[live][0].Bytes != 55 {
		t.Errorf("failed recording: tombstones %+v, want one of the 55 bytes on disk", ts[live])
	}
}
