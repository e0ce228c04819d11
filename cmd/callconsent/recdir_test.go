package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Day folders take the recordings root's mode (here 2770, as a shared freeswitch/callconsent
// group would), whatever the umask; a folder outside the root is refused.
func TestMakeRecordingDir(t *testing.T) {
	root := filepath.Join(t.TempDir(), "rec")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o770|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	var dirs dayDirs
	day := filepath.Join(root, "2026", "11", "26")
	for range 2 { // the second call is served from the cache
		if err := dirs.make(root, day); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{filepath.Join(root, "2026"), filepath.Join(root, "2026", "11"), day} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (os.ModePerm | os.ModeSetgid); got != 0o770|os.ModeSetgid {
			t.Errorf("%s: mode %v, want the root's drwxrws---", d, got)
		}
	}
	for _, bad := range []string{root, filepath.Join(root, "..", "elsewhere"), "/tmp"} {
		if err := makeRecordingDir(root, bad); err == nil {
			t.Errorf("%s accepted as a folder below %s", bad, root)
		}
	}
}
