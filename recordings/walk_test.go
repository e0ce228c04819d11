package recordings_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/callconsent/callconsent/recordings"
)

// openWalker opens dir as a root and returns a Walker of it.
func openWalker(t *testing.T, dir string) *recordings.Walker {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return recordings.NewWalker(root, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// The walk reads only the layout: dated folders of the right width and range (no 02/30), the
// files of the days wholly before the cutoff (all days on an orphan scan), and reports the old
// folders deepest first. A symlinked folder is counted as an error and never entered.
func TestWalker_Walk(t *testing.T) {
	dir := t.TempDir()
	elsewhere := t.TempDir()
	file := func(rel string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := file("2026/01/31/" + uuid1 + ".wav")
	young := file("2026/03/01/" + uuid2 + ".wav")
	for _, stray := range []string{"2026/02/30/a.wav", "2026/13/01/b.wav", "2026/1/01/c.wav", "+026/01/01/d.wav", "lost+found/e.wav", "2026/01/f.wav"} {
		file(stray)
	}
	os.WriteFile(filepath.Join(elsewhere, "g.wav"), nil, 0o600)
	if err := os.Symlink(elsewhere, filepath.Join(dir, "2026", "01", "30")); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	w := openWalker(t, dir)
	known := func(string) bool { return false }

	got, err := w.Walk(context.Background(), cutoff, false, known)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != 1 || got.Files[0].Path != old || got.Files[0].Bytes != 1 {
		t.Errorf("files %+v, want only %s", got.Files, old)
	}
	if want := []string{"2026/01/31", "2026/01"}; !slices.Equal(got.Old, want) {
		t.Errorf("old folders %v, want %v (deepest first, the year is not over)", got.Old, want)
	}
	if got.Errors != 1 {
		t.Errorf("errors %d, want 1 (the symlinked day folder)", got.Errors)
	}

	scan, err := w.Walk(context.Background(), cutoff, true, known)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range scan.Files {
		paths = append(paths, f.Path)
	}
	slices.Sort(paths) // the walk reports files in directory order
	if !slices.Equal(paths, []string{old, young}) {
		t.Errorf("orphan scan found %v, want %v", paths, []string{old, young})
	}

	if n := w.RemoveEmpty(got.Old); n != 0 {
		t.Errorf("removed %d folders that are not empty", n)
	}
	os.Remove(old)
	os.Remove(filepath.Join(dir, "2026", "01", "30"))
	os.Remove(filepath.Join(dir, "2026", "01", "f.wav"))
	if n := w.RemoveEmpty(got.Old); n != 2 {
		t.Errorf("removed %d emptied folders, want 2", n)
	}
}

// A recordings folder that cannot be read is an error, never an empty walk.
func TestWalker_ErrUnreadable(t *testing.T) {
	dir := t.TempDir()
	w := openWalker(t, dir)
	os.Remove(dir)
	if _, err := w.Walk(context.Background(), time.Now(), true, func(string) bool { return false }); !errors.Is(err, recordings.ErrUnreadable) {
		t.Errorf("walk of a removed folder: %v, want ErrUnreadable", err)
	}
}

const (
	uuid1 = "4f8c2a10-1111-4c3b-9a3e-0d5b7e9c2f11"
	uuid2 = "4f8c2a10-2222-4c3b-9a3e-0d5b7e9c2f11"
)

// CallUUID reads the call from a recording's name, and nothing from any other name.
func TestCallUUID(t *testing.T) {
	for path, want := range map[string]string{
		recordings.Path("/rec", uuid1, time.Now()): uuid1,
		"/rec/2026/01/01/" + uuid1 + ".mp3":        "",
		"/rec/2026/01/01/notes.wav":                "",
		"/rec/2026/01/01/../" + uuid2 + ".wav":     uuid2,
	} {
		if got := recordings.CallUUID(path); got != want {
			t.Errorf("CallUUID(%s) = %q, want %q", path, got, want)
		}
	}
}
