package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// checkRecordingsDir makes sure the recordings folder exists before any call is taken. In a
// --data-dir trial it is created (0700); in production FreeSWITCH's installation owns it, and
// a missing folder is a configuration error rather than something to paper over.
func checkRecordingsDir(dir string, create bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) && create {
		return os.MkdirAll(dir, 0o700)
	} else if err != nil {
		return fmt.Errorf("config: recordings-dir: %s", fileProblem(err))
	} else if !fi.IsDir() {
		return fmt.Errorf("config: recordings-dir: %s is not a folder", dir)
	}
	return nil
}

// makeRecordingDir creates the dated folders between the recordings root and dir with the
// root's own mode and group. FreeSWITCH would create them 0750, which lets the shared group
// read but not delete, and retention must be able to delete. Inheriting from the root keeps
// one knob for the admin: a 0700 root in a trial, a 2770 freeswitch:callrec root in production.
func makeRecordingDir(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("recording folder %s is not below %s", dir, root)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("recordings-dir: %w", err)
	}
	mode := fi.Mode() & (fs.ModePerm | fs.ModeSetgid)
	gid := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		gid = int(st.Gid)
	}
	cur := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		if err := os.Mkdir(cur, 0o700); errors.Is(err, fs.ErrExist) {
			continue
		} else if err != nil {
			return err
		}
		// Group first: a chown may clear the setgid bit that the chmod below sets.
		if gid >= 0 {
			if err := os.Lchown(cur, -1, gid); err != nil && !errors.Is(err, fs.ErrPermission) {
				return err
			}
		}
		// Mkdir's mode passes through the umask (systemd's UMask=0077): set it explicitly.
		if err := os.Chmod(cur, mode); err != nil {
			return err
		}
	}
	return nil
}

// dayDirs remembers the last recording folder made, so that the granted calls of one day,
// all recorded in the same folder, do not each stat and mkdir the path again while the caller
// waits for record_session. Retention removes only folders past the cutoff, never today's.
type dayDirs struct {
	mu   sync.Mutex
	last string
}

// make creates dir below root (makeRecordingDir) unless it was the last one made.
func (c *dayDirs) make(root, dir string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if dir == c.last {
		return nil
	}
	if err := makeRecordingDir(root, dir); err != nil {
		return err
	}
	c.last = dir
	return nil
}
