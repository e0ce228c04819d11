package recordings_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/recordings/recordingstest"
)

// A finished recording becomes 0600 (R-SEC-5) whatever mode FreeSWITCH gave it; a symbolic
// link or a FIFO in its place is refused, and what a link points to keeps its mode.
func TestMakePrivate(t *testing.T) {
	dir := t.TempDir()
	t.Run("OK", func(t *testing.T) {
		p := filepath.Join(dir, "rec.wav")
		recordingstest.WriteWAV(t, p, 2, 800, -1)
		os.Chmod(p, 0o644)
		if mode, err := recordings.MakePrivate(p); err != nil || mode != 0o600 {
			t.Fatalf("MakePrivate = %04o, %v", mode, err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("ErrSymlink", func(t *testing.T) {
		target, link := filepath.Join(dir, "elsewhere"), filepath.Join(dir, "link.wav")
		os.WriteFile(target, []byte("x"), 0o644)
		os.Chmod(target, 0o644)
		os.Symlink(target, link)
		if _, err := recordings.MakePrivate(link); err == nil {
			t.Error("a symbolic link was accepted")
		}
		if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o644 {
			t.Errorf("the link's target became %04o", fi.Mode().Perm())
		}
	})
	t.Run("ErrFIFO", func(t *testing.T) {
		p := filepath.Join(dir, "fifo.wav")
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skip(err)
		}
		if _, err := recordings.MakePrivate(p); err == nil { // and it did not block on the open
			t.Error("a FIFO was accepted")
		}
	})
	t.Run("ErrMissing", func(t *testing.T) {
		if _, err := recordings.MakePrivate(filepath.Join(dir, "gone.wav")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("missing file: %v", err)
		}
	})
	t.Run("ErrNotOwner", func(t *testing.T) {
		// Another account's file (FreeSWITCH under its own user): run as nobody on a root file.
		if os.Getuid() != 0 {
			t.Skip("needs root to act as another account")
		}
		shared := t.TempDir()
		// t.TempDir's two folders are 0700: let the other account in (never the system's /tmp).
		for _, d := range []string{shared, filepath.Dir(shared)} {
			os.Chmod(d, 0o755)
		}
		p := filepath.Join(shared, "fs.wav")
		recordingstest.WriteWAV(t, p, 2, 800, -1)
		os.Chmod(p, 0o644)
		bin := filepath.Join(shared, "recordings.test") // the go-build folder is private too
		if b, err := os.ReadFile(os.Args[0]); err != nil || os.WriteFile(bin, b, 0o755) != nil {
			t.Fatalf("copy the test binary: %v", err)
		}
		cmd := exec.Command(bin, "-test.run=^TestMakePrivateHelper$")
		cmd.Env = append(os.Environ(), "CALLCONSENT_TEST_TIGHTEN="+p)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %04o changed by another account", fi.Mode().Perm())
		}
	})
}

// TestMakePrivateHelper runs as another account for TestMakePrivate/ErrNotOwner.
func TestMakePrivateHelper(t *testing.T) {
	p := os.Getenv("CALLCONSENT_TEST_TIGHTEN")
	if p == "" {
		t.Skip("runs only as a helper process")
	}
	if mode, err := recordings.MakePrivate(p); !errors.Is(err, recordings.ErrNotOwner) || mode != 0o644 {
		t.Fatalf("MakePrivate of another account's file = %04o, %v; want 0644, ErrNotOwner", mode, err)
	}
}
