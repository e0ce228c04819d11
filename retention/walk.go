package retention

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// walker reads the recordings folder through an os.Root, one level of the known layout
// <YYYY>/<MM>/<DD>/<uuid>.wav at a time. It never descends into a symlink and never reads a
// folder it does not need: filepath.WalkDir over a million files would make every sweep O(all).
type walker struct {
	root *os.Root
	dir  string // absolute and clean: the prefix of every path it reports
	log  *slog.Logger
}

// walkResult is what one walk found.
type walkResult struct {
	Files  []File
	Old    []string // folders wholly before the cutoff, deepest first: removed when empty
	Errors int      // folders that could not be read, symlinks not followed
}

// span is the time a dated folder covers, [start, end).
type span struct{ start, end time.Time }

// walk lists the files of the date folders that lie wholly before cutoff, or of all date
// folders when recent is set. known reports files the caller has a row for already: those are
// not stat'ed, which keeps the walk of expired folders at one ReadDir per folder.
func (w *walker) walk(ctx context.Context, cutoff time.Time, recent bool, known func(string) bool) (walkResult, error) {
	var res walkResult
	years, err := w.readDir(".")
	if err != nil {
		// The top level is the recordings folder itself: unreadable means nothing can be swept.
		return res, fmt.Errorf("%w: %v", ErrRecordingsDir, err)
	}
	// Enter a folder if some day in it may be old, or if the orphan scan wants everything.
	enter := func(s span) bool { return recent || !s.start.Add(24*time.Hour).After(cutoff) }
	old := func(s span) bool { return !s.end.After(cutoff) }

	for _, y := range years {
		yn, ok := w.level(y, "", 4, 1970, 9999, &res)
		if !ok {
			continue
		}
		ys := span{date(yn, 1, 1), date(yn+1, 1, 1)}
		if !enter(ys) {
			continue
		}
		months, err := w.readDir(y.Name())
		if err != nil {
			w.log.Error("read recordings year folder failed", "folder", y.Name(), "err", err)
			res.Errors++
			continue
		}
		for _, m := range months {
			mn, ok := w.level(m, y.Name(), 2, 1, 12, &res)
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
func (w *walker) walkMonth(mrel string, yn, mn int, recent bool, cutoff time.Time, known func(string) bool, res *walkResult) {
	days, err := w.readDir(mrel)
	if err != nil {
		w.log.Error("read recordings month folder failed", "folder", mrel, "err", err)
		res.Errors++
		return
	}
	for _, d := range days {
		dn, ok := w.level(d, mrel, 2, 1, 31, res)
		if !ok || date(yn, mn, dn).Month() != time.Month(mn) { // 02/30 is not a date
			continue
		}
		drel := path.Join(mrel, d.Name())
		isOld := !date(yn, mn, dn+1).After(cutoff)
		if !isOld && !recent {
			continue
		}
		files, err := w.readDir(drel)
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

// level parses a dated folder name of the given width and range. Anything else in the
// layout (stray files, lost+found, symlinks) is skipped; a symlink is an error because someone
// made the layout point elsewhere, and following it could delete outside the folder.
func (w *walker) level(e fs.DirEntry, parent string, width, lo, hi int, res *walkResult) (int, bool) {
	rel := path.Join(parent, e.Name())
	if e.Type()&fs.ModeSymlink != 0 {
		w.log.Error("symlink in the recordings folder not followed", "entry", rel)
		res.Errors++
		return 0, false
	}
	n, err := strconv.Atoi(e.Name())
	if !e.IsDir() || len(e.Name()) != width || err != nil || n < lo || n > hi {
		w.log.Debug("entry outside the recordings layout skipped", "entry", rel)
		return 0, false
	}
	return n, true
}

// readDir lists a folder below the root, in name order.
func (w *walker) readDir(rel string) ([]fs.DirEntry, error) {
	f, err := w.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// removeEmpty removes the old folders that the sweep emptied, deepest first, so that the next
// sweep does not read them again. A folder that is not empty stays; nothing else is an error
// worth more than a log line, because the next sweep tries again.
func (w *walker) removeEmpty(old []string) int {
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

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
