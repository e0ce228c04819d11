package recordings_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/recordings"
)

// The census counts every file of the layout, with its bytes, and bounds the oldest start by
// the earlier of mtime and the end of the file's day: an mtime set back before its day folder
// counts, one after the day's end does not push the start later. Strays, a symlinked day and
// files in impossible dates are not counted; the symlink is an error.
func TestWalker_Census(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	file := func(rel string, size int, mtime time.Time) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	day := func(y, m, d, h int) time.Time { return time.Date(y, time.Month(m), d, h, 0, 0, 0, time.UTC) }
	file("2026/01/31/"+uuid1+".wav", 100, day(2026, 2, 3, 0)) // written days later: bounded by 2026-02-01
	file("2026/03/01/"+uuid2+".wav", 20, day(2026, 3, 1, 9))
	file("2026/03/01/stray.wav", 3, day(2026, 3, 1, 10)) // in a day folder: audio all the same
	for _, stray := range []string{"2026/02/30/a.wav", "2026/13/01/b.wav", "lost+found/e.wav", "2026/01/f.wav"} {
		file(stray, 1000, day(2000, 1, 1, 0))
	}
	os.WriteFile(filepath.Join(elsewhere, "g.wav"), make([]byte, 1000), 0o600)
	if err := os.Symlink(elsewhere, filepath.Join(dir, "2026", "01", "30")); err != nil {
		t.Fatal(err)
	}

	c, err := openWalker(t, dir).Census(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Files != 3 || c.Bytes != 123 || !c.Oldest.Equal(day(2026, 2, 1, 0)) || c.Errors != 1 {
		t.Fatalf("census = %+v, want 3 files, 123 bytes, oldest 2026-02-01, 1 error", c)
	}

	file("2026/03/02/4f8c2a10-3333-4c3b-9a3e-0d5b7e9c2f11.wav", 1, day(2026, 1, 15, 0)) // an mtime before its day counts
	if c, _ := openWalker(t, dir).Census(context.Background()); !c.Oldest.Equal(day(2026, 1, 15, 0)) {
		t.Errorf("oldest = %v, want the earlier mtime", c.Oldest)
	}

	empty := t.TempDir()
	if c, err := openWalker(t, empty).Census(context.Background()); err != nil || c.Files != 0 || !c.Oldest.IsZero() {
		t.Errorf("empty folder: %+v, %v", c, err)
	}
	w := openWalker(t, empty)
	os.Remove(empty)
	if _, err := w.Census(context.Background()); !errors.Is(err, recordings.ErrUnreadable) {
		t.Errorf("removed folder: %v, want ErrUnreadable", err)
	}
}
