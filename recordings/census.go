package recordings

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"
)

// Census is what the recordings folder holds: how many files, how many bytes, and a bound on
// when the oldest of them started. It is the retention promise as numbers (R-RETAIN-1): with
// sweeps doing their job no recording is older than retention plus one sweep interval.
type Census struct {
	Files int
	Bytes int64
	// Oldest is the earliest start any file may have had, never later than its true start:
	// per file the earlier of its modification time (FreeSWITCH writes until the call ends,
	// which is after the start) and the end of its UTC day folder (the start's date). Zero
	// when there are no files. Age measured from it is never larger than the true age, so an
	// alert on it never fires early.
	Oldest time.Time
	// Errors counts folders that could not be read and files that could not be stat'ed:
	// the census then undercounts, and says so.
	Errors int
}

// Census walks every day folder and counts what it holds. It keeps no list of files, so its
// memory does not grow with the folder: one day folder's entries at a time. Like Walk, it
// skips entries outside the layout and never follows a symlink; an unreadable recordings
// folder is ErrUnreadable.
func (w *Walker) Census(ctx context.Context) (Census, error) {
	var c Census
	var res Walk // only for level's error count
	years, err := w.ReadDir(".")
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	for _, y := range years {
		yn, ok := w.level(y, "", levels[0], &res)
		if !ok {
			continue
		}
		months, err := w.ReadDir(y.Name())
		if err != nil {
			c.Errors++
			continue
		}
		for _, m := range months {
			mn, ok := w.level(m, y.Name(), levels[1], &res)
			if !ok {
				continue
			}
			if err := ctx.Err(); err != nil {
				return c, err
			}
			w.censusMonth(path.Join(y.Name(), m.Name()), yn, mn, &c, &res)
		}
	}
	c.Errors += res.Errors
	return c, nil
}

// censusMonth adds the files of one month's day folders to c.
func (w *Walker) censusMonth(mrel string, yn, mn int, c *Census, res *Walk) {
	days, err := w.ReadDir(mrel)
	if err != nil {
		c.Errors++
		return
	}
	for _, d := range days {
		dn, ok := w.level(d, mrel, levels[2], res)
		if !ok || date(yn, mn, dn).Month() != time.Month(mn) {
			continue
		}
		drel := path.Join(mrel, d.Name())
		files, err := w.ReadDir(drel)
		if err != nil {
			c.Errors++
			continue
		}
		dayEnd := date(yn, mn, dn+1)
		for _, f := range files {
			if f.IsDir() {
				continue
			}
			info, err := f.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted since the folder was read
			} else if err != nil {
				c.Errors++
				continue
			}
			start := dayEnd
			if mt := info.ModTime().UTC(); mt.Before(start) {
				start = mt
			}
			c.Files++
			c.Bytes += info.Size()
			if c.Oldest.IsZero() || start.Before(c.Oldest) {
				c.Oldest = start
			}
		}
	}
}
