package retention_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/retention"
)

// TestSweep_NeverLeavesTheFolder: symlinks in the layout are never followed and a stored path
// with ".." or outside the folder never steers a deletion; everything outside survives, and
// the sweep says it could not finish.
func TestSweep_NeverLeavesTheFolder(t *testing.T) {
	e := newEnv(t, retention.DefaultPolicy())
	outside := t.TempDir()
	victim := func(name string) string {
		p := filepath.Join(outside, name)
		e.file(p, 5, t0.Add(-100*day))
		return p
	}
	symlink := func(target, link string) {
		if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}

	// A year and a day folder that are symlinks out of the folder, full of old "recordings".
	yearVictim := victim(filepath.Join("year", "01", "01", consentUUID(901)+".wav"))
	symlink(filepath.Join(outside, "year"), filepath.Join(e.dir, "2025"))
	dayVictim := victim(filepath.Join("day", consentUUID(902)+".wav"))
	symlink(filepath.Join(outside, "day"), filepath.Join(e.dir, "2026", "01", "02"))
	// A file symlink in an old day folder: the link goes, its target stays.
	fileVictim := victim("file.wav")
	link := filepath.Join(e.dir, "2026", "01", "03", consentUUID(903)+".wav")
	symlink(fileVictim, link)
	if out, err := exec.Command("touch", "-h", "-d", t0.Format(time.RFC3339), link).CombinedOutput(); err != nil {
		t.Fatalf("touch -h: %v %s", err, out)
	}
	// Expired rows whose stored path climbs out with "..", or lies elsewhere entirely.
	dotVictim := victim(consentUUID(904) + ".wav")
	absVictim := victim(consentUUID(905) + ".wav")
	rows := map[string]string{
		// Concatenated, not joined: Join would clean the ".." away.
		consentUUID(904): e.dir + "/2026/01/01/../../../../../" + filepath.Base(outside) + "/" + consentUUID(904) + ".wav",
		consentUUID(905): absVictim,
	}
	if filepath.Clean(rows[consentUUID(904)]) != dotVictim {
		t.Fatalf("test setup: %s does not lead to %s", rows[consentUUID(904)], dotVictim)
	}
	for u, p := range rows {
		e.grant(u, "+4711111111", t0, p)
		if err := e.db.UpdateRecording(e.ctx, u, consent.RecordingFailed, consent.RecordingUpdate{}); err != nil {
			t.Fatal(err)
		}
	}
	// A row whose folder is a symlink inside the recordings folder: refused too.
	innerLinkDir := filepath.Dir(e.recording(consentUUID(906), "+4711111111", t0.Add(4*day), consent.RecordingComplete, 1))
	moved := filepath.Join(e.dir, "2026", "01", "moved")
	if err := os.Rename(innerLinkDir, moved); err != nil {
		t.Fatal(err)
	}
	symlink("moved", innerLinkDir)

	e.clock.Advance(100 * day)
	rep, err := e.sw.Sweep(e.ctx, retention.Options{})
	if !errors.Is(err, retention.ErrIncomplete) || rep.Errors < 3 {
		t.Fatalf("want ErrIncomplete with errors, got %v %+v", err, rep)
	}
	for _, p := range []string{yearVictim, dayVictim, fileVictim, dotVictim, absVictim, filepath.Join(moved, consentUUID(906)+".wav")} {
		if !exists(t, p) {
			t.Errorf("%s outside the recordings folder (or behind a symlink) was deleted", p)
		}
	}
	if exists(t, link) {
		t.Errorf("the old symlink itself should be deleted as an orphan")
	}
	for u := range rows {
		if s := e.state(u); s != consent.RecordingDeleting && s != consent.RecordingFailed {
			t.Errorf("row with a refused path is %s", s)
		}
	}
	if len(e.tombstones()[rows[consentUUID(904)]]) != 0 {
		t.Errorf("tombstone for a file not deleted")
	}
}
