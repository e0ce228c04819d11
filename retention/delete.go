package retention

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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
		return fmt.Errorf("%w: %d errors", ErrIncomplete, rep.Errors)
	}
	return nil
}

// deleteBatch runs the protocol for one batch. Failures of single files are logged and
// counted and leave those files marked, to be retried; the rest of the batch goes on.
func (s *Sweeper) deleteBatch(ctx context.Context, batch []Action, now time.Time, rep *Report) {
	rels := map[string]string{} // path → path below the root
	intents := batch[:0:0]
	for _, a := range batch {
		rel, err := s.rel(a.Path)
		if err != nil {
			s.log.Error("recording path refused; not deleted", "call", a.CallUUID, "reason", a.Reason, "err", err)
			rep.Errors++
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
	dirs := map[string][]int{} // folder below the root → indexes into marked
	failed := make([]bool, len(marked))
	checked := map[string]error{}
	for i, t := range marked {
		rel := rels[t.Path]
		dir := path.Dir(rel)
		if _, ok := checked[dir]; !ok {
			checked[dir] = s.checkNoSymlink(dir)
		}
		err := checked[dir]
		if err == nil {
			// The row's size is stale for a recording stopped early (a live withdrawal): the
			// tombstone records what was actually removed.
			if fi, serr := s.root.Lstat(rel); serr == nil && fi.Mode().IsRegular() {
				marked[i].Bytes = fi.Size()
				a := byPath[t.Path]
				a.Bytes = fi.Size()
				byPath[t.Path] = a
			}
			err = s.root.Remove(rel)
			if errors.Is(err, fs.ErrNotExist) {
				err = nil // gone already: by an earlier, interrupted sweep, or never written
			}
		}
		if err != nil {
			s.log.Error("unlink recording failed", "call", t.CallUUID, "reason", t.Reason, "err", err)
			rep.Errors++
			failed[i] = true
			continue
		}
		dirs[dir] = append(dirs[dir], i)
		if i == 0 {
			s.fail(FailAfterUnlink)
		}
	}
	for dir, idx := range dirs {
		// Without the fsync a power cut could bring the file back after its tombstone.
		if err := s.syncDir(dir); err != nil {
			s.log.Error("fsync recordings folder failed; deletions retried next sweep", "folder", dir, "err", err)
			rep.Errors += len(idx)
			for _, i := range idx {
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

// checkNoSymlink refuses a folder below the root if any element of it is a symlink. os.Root
// already keeps every access inside the folder; this keeps a link inside it from redirecting a
// deletion to another recording's folder.
func (s *Sweeper) checkNoSymlink(dir string) error {
	for p := dir; p != "." && p != "/"; p = path.Dir(p) {
		fi, err := s.root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // the file is missing too: nothing to unlink
		} else if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("folder %s is a symlink: not followed", p)
		} else if !fi.IsDir() {
			return fmt.Errorf("%s is not a folder", p)
		}
	}
	return nil
}

// syncDir makes the unlinks in a folder durable.
func (s *Sweeper) syncDir(dir string) error {
	f, err := s.root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // the folder is gone, and with it every file in it
	} else if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
