package export

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// FileMode is the mode of every file an export writes: it holds personal data (a caller's
// recording, or everything held about a caller), readable by its owner only.
const FileMode fs.FileMode = 0o600

// outFile is an export being written: a temporary file beside its final name, so that a
// crash, a full disk or an interrupt leaves no half-written archive under the name a user would
// send on, and an existing file of that name is never overwritten.
type outFile struct {
	*os.File
	final string
}

// createOut starts writing the file final: its folder must exist and final must not. The
// temporary file is hidden (a leading dot), FileMode from the start.
func createOut(final string) (*outFile, error) {
	if final == "" {
		return nil, consent.Errorf(consent.EINVALID, "--out: a file name is required")
	}
	if err := checkFree(final); err != nil {
		return nil, err
	}
	dir := filepath.Dir(final)
	RemoveStaleTemps(final)
	f, err := os.CreateTemp(dir, TempPattern(final))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, consent.Errorf(consent.EINVALID, "--out %s: folder %s does not exist; create it first", final, dir)
	} else if errors.Is(err, fs.ErrPermission) {
		return nil, consent.Errorf(consent.EINVALID, "--out %s: cannot write in folder %s (permission denied); choose another folder", final, dir)
	} else if err != nil {
		return nil, fmt.Errorf("create %s: %w", final, err)
	}
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("chmod %s: %w", f.Name(), err)
	}
	return &outFile{File: f, final: final}, nil
}

// TempPattern is the os.CreateTemp pattern of the hidden temporary file an export (or a
// listen) writes beside final before it is on record and named.
func TempPattern(final string) string { return "." + filepath.Base(final) + ".tmp-*" }

// StaleAfter is how long a temporary file beside an --out must have been left unchanged before
// RemoveStaleTemps takes it for a crashed run's: a copy under way writes continuously.
const StaleAfter = 15 * time.Minute

// RemoveStaleTemps removes the temporary files (TempPattern) that a crashed or killed run left
// beside final and that nobody has written to for StaleAfter: they hold audio or an archive
// under a hidden name (their access is on record: Access.Begin precedes the first byte).
func RemoveStaleTemps(final string) {
	names, _ := filepath.Glob(filepath.Join(filepath.Dir(final), globEscape(TempPattern(final))))
	for _, n := range names {
		if fi, err := os.Lstat(n); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > StaleAfter {
			os.Remove(n)
		}
	}
}

// globEscape escapes the glob metacharacters of a pattern's name part, keeping its final "*".
func globEscape(p string) string {
	base := strings.TrimSuffix(p, "*")
	var b strings.Builder
	for _, r := range base {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "*"
}

// checkFree refuses a name that exists, so that an export never replaces a file: ECONFLICT.
func checkFree(name string) error {
	if _, err := os.Lstat(name); err == nil {
		return consent.Errorf(consent.ECONFLICT, "--out %s exists; choose another name or remove it first (nothing was written)", name)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("check %s: %w", name, err)
	}
	return nil
}

// sync flushes the file to disk and closes it.
func (o *outFile) sync() error {
	if err := o.Sync(); err != nil {
		o.Close()
		return fmt.Errorf("sync %s: %w", o.Name(), err)
	}
	return o.Close()
}

// commit makes a synced file visible under its final name: a hard link, which fails rather than
// replaces a file made there meanwhile, then the temporary name is removed and the folder synced,
// so that the name survives a power cut.
func (o *outFile) commit() error {
	if err := os.Link(o.Name(), o.final); errors.Is(err, fs.ErrExist) {
		o.abort()
		return checkFree(o.final)
	} else if err != nil {
		o.abort()
		return fmt.Errorf("name %s: %w", o.final, err)
	}
	os.Remove(o.Name())
	return syncDir(filepath.Dir(o.final))
}

// abort closes and removes the temporary file.
func (o *outFile) abort() {
	o.Close()
	os.Remove(o.Name())
}

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// openRecording opens a recording for reading without following a symbolic link (the
// recordings folder is writable by FreeSWITCH's account, and a link there must not export what
// it points to) and refuses anything but a regular file.
func openRecording(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link, not a recording", path)
	} else if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	} else if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, nil
}

// Pending is an export written and synced under temporary names, not yet under its own: the
// service audits it first and then commits it, or aborts it when the audit entry cannot be
// written (no record, no disclosure).
type Pending struct{ files []*outFile }

// Commit names every file; when one cannot be named, those named already are removed with the
// rest, so either all of an export exists or none of it.
func (p *Pending) Commit() error {
	for i, f := range p.files {
		if err := f.commit(); err != nil {
			for _, done := range p.files[:i] {
				os.Remove(done.final)
			}
			for _, rest := range p.files[i+1:] {
				rest.abort()
			}
			return err
		}
	}
	return nil
}

// Abort removes the temporary files.
func (p *Pending) Abort() {
	for _, f := range p.files {
		f.abort()
	}
}
