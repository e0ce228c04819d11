package recordings

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"syscall"
	"time"
)

// Walker reads the recordings folder through an os.Root, one level of the layout
// <YYYY>/<MM>/<DD>/<uuid>.wav at a time, for retention: which files are old enough to be due,
// and which are orphans. It never descends into a symlink and never reads a folder it does not
// need: filepath.WalkDir over a million files would make every sweep O(all).
type Walker struct {
	root *os.Root
	dir  string // absolute and clean: the prefix of every path it reports
	log  *slog.Logger
}

// NewWalker returns a Walker of the recordings folder dir (absolute and clean), opened as root
// by the caller, who closes it.
func NewWalker(root *os.Root, dir string, log *slog.Logger) *Walker {
	return &Walker{root: root, dir: dir, log: log}
}

// File is a file found in a day folder of the recordings folder.
type File struct {
	Path    string    `json:"path"` // absolute: recordings folder joined with the layout
	Bytes   int64     `json:"bytes"`
	ModTime time.Time `json:"mtime"` // used only for orphans, which have no start time
}

// Walk is what one walk found.
type Walk struct {
	Files  []File
	Old    []string // folders wholly before the cutoff, deepest first: removed when empty
	Errors int      // folders that could not be read, symlinks not followed
}

// ErrUnreadable marks the error of a walk that could not read the recordings folder itself:
// it saw nothing, which must never pass for an empty folder.
var ErrUnreadable = errors.New("recordings folder unreadable")

// span is the time a dated folder covers, [start, end).
type span struct{ start, end time.Time }

// Walk lists the files of the date folders that lie wholly before cutoff, or of all date
// folders when recent is set. known reports files the caller has a row for already: those are
// not stat'ed, which keeps the walk of expired folders at one ReadDir per folder. Folders below
// the top that cannot be read are logged and counted; the top level is the recordings folder
// itself, and an error reading it (ErrUnreadable) means nothing can be swept.
func (w *Walker) Walk(ctx context.Context, cutoff time.Time, recent bool, known func(string) bool) (Walk, error) {
	var res Walk
	years, err := w.ReadDir(".")
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	// Enter a folder if some day in it may be old, or if the orphan scan wants everything.
	enter := func(s span) bool { return recent || !s.start.Add(24*time.Hour).After(cutoff) }
	old := func(s span) bool { return !s.end.After(cutoff) }

	for _, y := range years {
		yn, ok := w.level(y, "", levels[0], &res)
		if !ok {
			continue
		}
		ys := span{date(yn, 1, 1), date(yn+1, 1, 1)}
		if !enter(ys) {
			continue
		}
		months, err := w.ReadDir(y.Name())
		if err != nil {
			w.log.Error("read recordings year folder failed", "folder", y.Name(), "err", err)
			res.Errors++
			continue
		}
		for _, m := range months {
			mn, ok := w.level(m, y.Name(), levels[1], &res)
			if !ok {
				continue
			}
			mrel := path.Join(y.Name(), m.Name())
			ms := span{date(yn, mn, 1), date(yn, mn+1, 1)}
			if !enter(ms) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			w.walkMonth(mrel, yn, mn, recent, cutoff, known, &res)
			if old(ms) {
				res.Old = append(res.Old, mrel)
			}
		}
		if old(ys) {
			res.Old = append(res.Old, y.Name())
		}
	}
	return res, nil
}

// walkMonth lists the day folders of one month and the files of those it needs.
func (w *Walker) walkMonth(mrel string, yn, mn int, recent bool, cutoff time.Time, known func(string) bool, res *Walk) {
	days, err := w.ReadDir(mrel)
	if err != nil {
		w.log.Error("read recordings month folder failed", "folder", mrel, "err", err)
		res.Errors++
		return
	}
	for _, d := range days {
		dn, ok := w.level(d, mrel, levels[2], res)
		if !ok || date(yn, mn, dn).Month() != time.Month(mn) { // 02/30 is not a date
			continue
		}
		drel := path.Join(mrel, d.Name())
		isOld := !date(yn, mn, dn+1).After(cutoff)
		if !isOld && !recent {
			continue
		}
		files, err := w.ReadDir(drel)
		if err != nil {
			w.log.Error("read recordings day folder failed", "folder", drel, "err", err)
			res.Errors++
			continue
		}
		for _, f := range files {
			if f.IsDir() {
				w.log.Warn("unexpected folder inside a day folder; skipped", "folder", path.Join(drel, f.Name()))
				continue
			}
			// A symlink is reported as a file: deleting it removes the link only (unlinkat
			// never follows the last component), and its target is never opened.
			abs := filepath.Join(w.dir, drel, f.Name())
			file := File{Path: abs}
			if !known(abs) {
				if info, err := f.Info(); err == nil {
					file.Bytes, file.ModTime = info.Size(), info.ModTime().UTC()
				} else if !errors.Is(err, fs.ErrNotExist) {
					w.log.Error("stat recording file failed", "file", path.Join(drel, f.Name()), "err", err)
					res.Errors++
					continue
				}
			}
			res.Files = append(res.Files, file)
		}
		if isOld {
			res.Old = append(res.Old, drel)
		}
	}
}

// level parses a dated folder name of level l. Anything else in the layout (stray files,
// lost+found, symlinks) is skipped; a symlink is an error because someone made the layout point
// elsewhere, and following it could delete outside the folder.
func (w *Walker) level(e fs.DirEntry, parent string, l level, res *Walk) (int, bool) {
	rel := path.Join(parent, e.Name())
	if e.Type()&fs.ModeSymlink != 0 {
		w.log.Error("symlink in the recordings folder not followed", "entry", rel)
		res.Errors++
		return 0, false
	}
	n, ok := l.parse(e.Name())
	if !e.IsDir() || !ok {
		w.log.Debug("entry outside the recordings layout skipped", "entry", rel)
		return 0, false
	}
	return n, true
}

// ReadDir lists a folder below the root, in directory order (not sorted: a day folder may
// hold thousands of files, and no caller needs an order).
func (w *Walker) ReadDir(rel string) ([]fs.DirEntry, error) {
	f, err := w.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// RemoveEmpty removes the old folders (Walk.Old) that a sweep emptied, deepest first, so that
// the next sweep does not read them again. A folder that is not empty stays; nothing else is an
// error worth more than a log line, because the next sweep tries again. It returns how many it
// removed.
func (w *Walker) RemoveEmpty(old []string) int {
	n := 0
	for _, rel := range old {
		err := w.root.Remove(rel)
		switch {
		case err == nil:
			n++
		case errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrNotExist):
		default:
			w.log.Warn("remove empty recordings folder failed", "folder", rel, "err", err)
		}
	}
	return n
}
