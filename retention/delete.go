package retention

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// execute deletes the actions in batches. Per batch (R-RETAIN-4): commit the intent (rows to
// deleting) → unlink each file through the root → fsync each folder → commit deleted and the
// tombstones. A crash between any two steps leaves rows in deleting or intents, which the next
// Recover or Sweep finishes; a missing file counts as deleted, so repeating a step is harmless.
func (s *Sweeper) execute(ctx context.Context, actions []Action, now time.Time, rep *Report) error {
	size := max(s.BatchSize, 1)
	for len(actions) > 0 {
		if err := ctx.Err(); err != nil {
			return err // what is marked is finished by the next sweep
		}
		batch := actions[:min(size, len(actions))]
		actions = actions[len(batch):]
		s.deleteBatch(ctx, batch, now, rep)
	}
	if rep.Errors > 0 {
		s.metrics.Errors.Add(int64(rep.Errors))
		return incompleteError(rep)
	}
	return nil
}

// incompleteError is ErrIncomplete naming the first stuck files, so that the command that hit
// them shows where to look.
func incompleteError(rep *Report) error {
	var parts []string
	for i, st := range rep.Stuck {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(rep.Stuck)-i))
			break
		}
		parts = append(parts, st.Path+": "+st.Error)
	}
	if other := rep.Errors - len(rep.Stuck); other > 0 {
		parts = append(parts, fmt.Sprintf("%d other error(s), see the log", other))
	}
	return errorf(ErrIncomplete, "%s", strings.Join(parts, "; "))
}

// stuck records that the deletion of action a failed: in the report, in the sweeper's alarm, and in
// the log with the path below the recordings folder (no personal data there).
func (s *Sweeper) stuck(a Action, rel string, err error, rep *Report) {
	if rel == "" {
		rel = a.Path // refused: outside the folder, so shown as stored
	}
	st := s.alarms.stuckFile(Stuck{Path: rel, Call: a.CallUUID, Reason: a.Reason, Error: bare(err).Error(), stored: a.Path})
	rep.Stuck = append(rep.Stuck, st)
	rep.Errors++
	s.log.Error("alarm: recording not deleted; retried every sweep", "path", rel, "call", a.CallUUID, "reason", a.Reason,
		"err", st.Error, "since", st.Since.Format(time.RFC3339))
}

// deleteBatch runs the protocol for one batch. Failures of single files are logged and
// counted and leave those files marked, to be retried; the rest of the batch goes on.
func (s *Sweeper) deleteBatch(ctx context.Context, batch []Action, now time.Time, rep *Report) {
	rels := map[string]string{} // path → path below the root
	intents := batch[:0:0]
	for _, a := range batch {
		rel, err := s.rel(a.Path)
		if err != nil {
			s.stuck(a, "", fmt.Errorf("path refused: %w", err), rep)
			continue
		}
		rels[a.Path] = rel
		intents = append(intents, a)
	}
	ts := make([]consent.Tombstone, 0, len(intents))
	for _, a := range intents {
		ts = append(ts, tombstoneOf(a, now))
	}
	marked, err := s.store.MarkDeleting(ctx, ts)
	if err != nil {
		s.log.Error("mark deleting failed; batch not deleted", "files", len(ts), "err", err)
		rep.Errors += len(ts)
		return
	}
	s.fail(FailAfterMark)

	byPath := make(map[string]Action, len(intents))
	for _, a := range intents {
		byPath[a.Path] = a
	}
	// Each folder is opened once per batch, with no symlink on the way (openFolder), and its
	// files are stat'ed and unlinked by name in it: two system calls a file, not two path
	// resolutions below the root. The batch is in date order, so its folders are few.
	folders := map[string]*folder{} // folder below the root → its handle
	defer func() {
		for _, f := range folders {
			f.close()
		}
	}()
	failed := make([]bool, len(marked))
	for i, t := range marked {
		rel := rels[t.Path]
		dir, base := path.Split(rel)
		dir = path.Clean(dir)
		f, ok := folders[dir]
		if !ok {
			f = s.openFolder(dir)
			folders[dir] = f
		}
		err := f.err
		unlinkStart := time.Now()
		if err == nil && f.root != nil {
			// The row's size is stale for a recording stopped early (a live withdrawal): the
			// tombstone records what was actually removed. A complete recording's size was
			// taken from the file when it was finalised, and the file is not written after:
			// no stat for it (most of a retention sweep's files).
			a := byPath[t.Path]
			if a.State == consent.RecordingComplete && a.Bytes > 0 {
			} else if fi, serr := f.root.Lstat(base); serr == nil && fi.Mode().IsRegular() {
				marked[i].Bytes = fi.Size()
				a.Bytes = fi.Size()
				byPath[t.Path] = a
			}
			err = f.root.Remove(base)
			if errors.Is(err, fs.ErrNotExist) {
				err = nil // gone already: by an earlier, interrupted sweep, or never written
			}
		}
		// A missing folder (f.root nil) means the file is gone too: nothing to unlink.
		if err != nil {
			s.stuck(byPath[t.Path], rel, err, rep)
			failed[i] = true
			continue
		}
		if s.OnUnlink != nil && f.root != nil {
			s.OnUnlink(time.Since(unlinkStart))
		}
		f.files = append(f.files, i)
		if i == 0 {
			s.fail(FailAfterUnlink)
		}
	}
	for dir, f := range folders {
		if f.root == nil || len(f.files) == 0 {
			continue
		}
		// Without the fsync a power cut could bring the file back after its tombstone.
		if err := f.sync(); err != nil {
			for _, i := range f.files {
				s.stuck(byPath[marked[i].Path], rels[marked[i].Path], fmt.Errorf("fsync folder %s: %w", dir, bare(err)), rep)
				failed[i] = true
			}
		}
	}
	s.fail(FailAfterFsync)

	done := marked[:0:0]
	for i, t := range marked {
		if !failed[i] {
			done = append(done, t)
		}
	}
	if len(done) == 0 {
		return
	}
	if _, err := s.store.FinishDeletions(ctx, done); err != nil {
		s.log.Error("finish deletions failed; files are gone, tombstones retried next sweep", "files", len(done), "err", err)
		rep.Errors += len(done)
		return
	}
	for _, t := range done {
		a := byPath[t.Path]
		s.alarms.deleted(a.Path)
		rep.add(a)
		s.metrics.Deleted.Add(1)
		s.metrics.Bytes.Add(a.Bytes)
		if a.Alarm != "" {
			s.metrics.Alarms.Add(1)
			s.log.Error("deleted a file that must not exist", "alarm", a.Alarm, "call", a.CallUUID, "reason", a.Reason)
		}
		if a.Alarm == AlarmNotGranted {
			s.metrics.NotGranted.Add(1)
		}
		if a.Reason == consent.ReasonOrphan {
			s.metrics.Orphans.Add(1)
		}
	}
}

// rel turns a stored absolute path into a path below the recordings root. A path outside the
// folder, or one with a ".." element anywhere, is refused before the root would refuse it too:
// a row is data, and data must never steer a deletion elsewhere.
func (s *Sweeper) rel(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("path is not absolute")
	}
	for _, el := range strings.Split(filepath.ToSlash(p), "/") {
		if el == ".." {
			return "", fmt.Errorf("path contains \"..\"")
		}
	}
	rel, err := filepath.Rel(s.dir, filepath.Clean(p))
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("path is outside the recordings folder")
	}
	return filepath.ToSlash(rel), nil
}

// folder is one recordings folder of a batch, opened once for all its files.
type folder struct {
	root  *os.Root // nil if the folder is missing (err nil) or refused (err set)
	own   bool     // root was opened for this folder, not the recordings root itself
	err   error
	files []int // indexes of the files unlinked in it
}

func (f *folder) close() {
	if f.own && f.root != nil {
		f.root.Close()
	}
}

// sync makes the unlinks in the folder durable.
func (f *folder) sync() error {
	d, err := f.root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// openFolder opens a folder below the root one element at a time and refuses it if any
// element is a symlink or not a folder. os.Root already keeps every access inside the
// recordings folder; this keeps a link inside it from redirecting a deletion to another
// recording's folder. Each element is lstat'ed, then opened, then proved to be the folder
// lstat'ed, so a link swapped in between is caught too; once open, the folder's files are
// reached by name in it, whatever happens to the path above. A missing element means the
// files are missing too: the result has no root and no error.
func (s *Sweeper) openFolder(dir string) *folder {
	if dir == "." {
		return &folder{root: s.root}
	}
	cur, own := s.root, false
	done := func(f *folder) *folder {
		if own && f.root != cur {
			cur.Close()
		}
		return f
	}
	p := ""
	for _, el := range strings.Split(dir, "/") {
		p = path.Join(p, el)
		fi, err := cur.Lstat(el)
		if errors.Is(err, fs.ErrNotExist) {
			return done(&folder{})
		} else if err != nil {
			return done(&folder{err: err})
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return done(&folder{err: fmt.Errorf("folder %s is a symlink: not followed", p)})
		} else if !fi.IsDir() {
			return done(&folder{err: fmt.Errorf("%s is not a folder", p)})
		}
		sub, err := cur.OpenRoot(el)
		if errors.Is(err, fs.ErrNotExist) {
			return done(&folder{})
		} else if err != nil {
			return done(&folder{err: err})
		}
		if st, err := sub.Stat("."); err != nil || !os.SameFile(fi, st) {
			sub.Close()
			return done(&folder{err: fmt.Errorf("folder %s was replaced while opened: not followed", p)})
		}
		if own {
			cur.Close()
		}
		cur, own = sub, true
	}
	return &folder{root: cur, own: true}
}
