package recordings

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"syscall"
)

// PrivateMode is the mode of a finished recording: readable and writable by its owner only
// (R-SEC-5). FreeSWITCH creates recordings with its own umask (0644 was seen).
const PrivateMode fs.FileMode = 0o600

// ErrNotOwner means a recording belongs to another account, so its mode cannot be changed by
// us: FreeSWITCH runs as its own user and wrote it.
var ErrNotOwner = errors.New("owned by another account")

// MakePrivate gives the finished recording at path PrivateMode and returns its mode
// afterwards. The file is opened without following a symbolic link and changed through the open
// file, so a link planted in the recordings folder cannot make us change the mode of what it
// points to; anything but a regular file is refused. A file another account owns keeps its mode:
// ErrNotOwner, with that mode, so the caller can tell whether others can read it.
func MakePrivate(path string) (fs.FileMode, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return 0, fmt.Errorf("%s is a symbolic link, not a recording", path)
	} else if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	} else if !fi.Mode().IsRegular() {
		return fi.Mode(), fmt.Errorf("%s is not a regular file", path)
	}
	mode := fi.Mode().Perm()
	if mode == PrivateMode {
		return mode, nil
	}
	if err := f.Chmod(PrivateMode); errors.Is(err, fs.ErrPermission) {
		return mode, ErrNotOwner
	} else if err != nil {
		return mode, err
	}
	return PrivateMode, nil
}

// tighten is MakePrivate with what the log needs to say. A missing file (withdrawn and
// deleted meanwhile, or never written) is nothing to tighten. A file FreeSWITCH owns that only
// its group can read is as private as a shared recordings folder allows; one that others can
// read is a warning with what to change.
func tighten(path string, log *slog.Logger) {
	mode, err := MakePrivate(path)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, ErrNotOwner) && mode&0o007 == 0:
		log.Debug("recording owned by FreeSWITCH's account keeps its mode; no access for others", "path", path, "mode", fmt.Sprintf("%04o", mode))
	case errors.Is(err, ErrNotOwner):
		log.Warn("recording readable by others and owned by another account: cannot make it private; run FreeSWITCH with UMask=0027",
			"path", path, "mode", fmt.Sprintf("%04o", mode))
	default:
		log.Warn("recording not made private", "path", path, "err", err)
	}
}
