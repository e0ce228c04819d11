package access

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// HeadFile is the small file beside the audit key that names the chain's head (seq and MAC).
// The database alone cannot show that its last entries were cut off; the head file can, as long
// as it is not cut back together with them (it lives beside the key, not the database, and is
// replaced atomically: written to a temporary file, synced, renamed, folder synced).
type HeadFile struct {
	Path string
	mu   sync.Mutex
}

// NewHeadFile returns the head file at path.
func NewHeadFile(path string) *HeadFile { return &HeadFile{Path: path} }

// Read returns the recorded head; a missing file is (nil, nil): no entry was ever appended with
// this key file in place.
func (h *HeadFile) Read() (*Head, error) {
	b, err := os.ReadFile(h.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("audit head: %w", err)
	}
	var hd Head
	if len(b) > 4096 || json.Unmarshal(b, &hd) != nil || hd.Seq < 0 {
		return nil, fmt.Errorf("audit head %s is not a head file: restore it from a backup", h.Path)
	}
	return &hd, nil
}

// Advance records hd as the head unless the file already names a later entry: appends commit in
// order but two processes (the daemon and a command) may write their heads in either order. An
// exclusive lock on a sibling lock file orders the read and the rename across processes.
func (h *HeadFile) Advance(hd Head) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	lock, err := os.OpenFile(h.Path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("audit head lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("audit head lock: %w", err)
	}
	if cur, err := h.Read(); err == nil && cur != nil && cur.Seq >= hd.Seq {
		return nil
	}
	b, _ := json.Marshal(hd)
	tmp := h.Path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("audit head: %w", err)
	}
	if err := os.Rename(tmp, h.Path); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	if d, err := os.Open(filepath.Dir(h.Path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
