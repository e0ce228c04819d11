package recordings

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Folder is the recordings folder as the consent flow and reconcile use it: where a call's
// recording goes, its day folder made, and a stopped recording made private and measured. It
// implements consent.RecordingFiles and is safe for use by many calls at once. It holds no open
// file: there is nothing to close.
type Folder struct {
	dir string

	mu   sync.Mutex
	last string // the day folder made last
}

var _ consent.RecordingFiles = (*Folder)(nil)

// NewFolder returns the recordings folder at dir, an absolute path.
func NewFolder(dir string) *Folder { return &Folder{dir: dir} }

// Dir returns the folder's path.
func (f *Folder) Dir() string { return f.dir }

// RecordingPath returns where the recording of a call started at t is written (Path).
func (f *Folder) RecordingPath(callUUID string, t time.Time) string { return Path(f.dir, callUUID, t) }

// MakeFolder creates the day folder of the recording at path, unless it was the last one made:
// the granted calls of one day, all recorded in the same folder, do not each stat and mkdir the
// path again while the caller waits for record_session. Retention removes only folders past the
// cutoff, never today's.
func (f *Folder) MakeFolder(path string) error {
	dir := filepath.Dir(path)
	f.mu.Lock()
	defer f.mu.Unlock()
	if dir == f.last {
		return nil
	}
	if err := makeDayFolder(f.dir, dir); err != nil {
		return err
	}
	f.last = dir
	return nil
}

// makeDayFolder creates the dated folders between the recordings root and dir with the root's
// own mode and group. FreeSWITCH would create them 0750, which lets the shared group read but
// not delete, and retention must be able to delete. Inheriting from the root keeps one knob for
// the admin: a 0700 root in a trial, a 2770 freeswitch:callrec root in production.
func makeDayFolder(root, dir string) error {
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

// Finalise sets the final state of a stopped recording from its file, after making the file
// private (MakePrivate; what stands in the way is logged to log): complete with its size and
// duration when it is a readable PCM WAV with audio, failed when it is missing, empty, not PCM
// or its header is cut off.
func (f *Folder) Finalise(path string, ended time.Time, log *slog.Logger) (consent.RecordingState, consent.RecordingUpdate) {
	tighten(path, log)
	info, err := InspectWAV(path)
	u := consent.RecordingUpdate{EndedAt: ended, Bytes: info.Bytes}
	if err != nil || info.Format != PCM || info.DataBytes == 0 {
		return consent.RecordingFailed, u
	}
	u.DurationMS = info.Duration.Milliseconds()
	return consent.RecordingComplete, u
}
