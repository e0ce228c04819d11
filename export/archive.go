package export

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/callconsent/callconsent/consent"
)

// Written is an access archive once written: its name, size and SHA-256, which the command
// prints and the audit entry keeps, so that the archive handed to the caller can be shown
// later to be the one made.
type Written struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Write writes the archive to out as a zip: README.txt, the audio and notice files, and last
// manifest.json with the SHA-256 of every other file. The audio is copied as it is (stored, not
// compressed: WAV hardly compresses, and a copy reads and writes 32 KiB at a time, so memory
// does not grow with the archive). It goes to a temporary file beside out, which is synced and
// then named, mode 0600; out must not exist (ECONFLICT). progress, when set, is told the audio
// bytes copied and their total. A file that changed or went since Prepare fails the archive
// (ECONFLICT: run it again); nothing is left behind then.
func (a *Archive) Write(ctx context.Context, out string, progress func(done, total int64)) (*Written, error) {
	w, p, err := a.WriteTemp(ctx, out, progress)
	if err != nil {
		return nil, err
	}
	if err := p.Commit(); err != nil {
		return nil, err
	}
	return w, nil
}

// WriteTemp is Write up to the sync: the archive and its SHA-256 exist, under a temporary name
// until the Pending is committed.
func (a *Archive) WriteTemp(ctx context.Context, out string, progress func(done, total int64)) (*Written, *Pending, error) {
	f, err := createOut(out)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, sum)}
	if err := a.writeZip(ctx, cw, progress); err != nil {
		f.abort()
		return nil, nil, err
	}
	if err := f.sync(); err != nil {
		f.abort()
		return nil, nil, err
	}
	return &Written{Path: out, Bytes: cw.n, SHA256: hex.EncodeToString(sum.Sum(nil))}, &Pending{files: []*outFile{f}}, nil
}

// writeZip writes the archive's entries to w.
func (a *Archive) writeZip(ctx context.Context, w io.Writer, progress func(done, total int64)) error {
	m := *a.Manifest
	m.Files = []ManifestFile{}
	zw := zip.NewWriter(w)
	readme := readmeText(a.Summary(), m.CreatedAt)
	mf, err := a.entry(zw, "README.txt", zip.Deflate, func(w io.Writer) (int64, error) {
		n, err := w.Write(readme)
		return int64(n), err
	})
	if err != nil {
		return err
	}
	m.Files = append(m.Files, mf)
	var total, done int64
	for _, f := range a.files {
		total += f.bytes
	}
	for _, af := range a.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		mf, err := a.entry(zw, af.name, zip.Store, func(w io.Writer) (int64, error) {
			return copyFile(w, af, func(n int64) {
				done += n
				if progress != nil {
					progress(done, total)
				}
			})
		})
		if err != nil {
			return err
		}
		m.Files = append(m.Files, mf)
	}
	body, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		return err
	}
	if _, err := a.entry(zw, "manifest.json", zip.Deflate, func(w io.Writer) (int64, error) {
		n, err := w.Write(append(body, '\n'))
		return int64(n), err
	}); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	a.Manifest.Files = m.Files
	return nil
}

// entry adds the file name to zw with the given method, its contents from fill, and returns it
// with its SHA-256 and size. Every entry is dated the archive's time, not the source file's.
func (a *Archive) entry(zw *zip.Writer, name string, method uint16, fill func(io.Writer) (int64, error)) (ManifestFile, error) {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: a.Manifest.CreatedAt})
	if err != nil {
		return ManifestFile{}, fmt.Errorf("write archive: %w", err)
	}
	h := sha256.New()
	n, err := fill(io.MultiWriter(w, h))
	if err != nil {
		return ManifestFile{}, err
	}
	return ManifestFile{Name: name, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: n}, nil
}

// copyFile copies the file af planned into w, exactly the size seen when it was planned, and
// reports the bytes as they go.
func copyFile(w io.Writer, af archiveFile, progress func(int64)) (int64, error) {
	f, err := openRecording(af.path)
	if err != nil {
		return 0, consent.Errorf(consent.ECONFLICT, "%s went while the archive was written (%v); nothing was written: run it again", af.name, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != af.bytes {
		return 0, consent.Errorf(consent.ECONFLICT, "%s changed while the archive was written; nothing was written: run it again", af.name)
	}
	n, err := io.Copy(&progressWriter{w: w, fn: progress}, io.LimitReader(f, af.bytes))
	if err == nil && n != af.bytes {
		err = consent.Errorf(consent.ECONFLICT, "%s shrank while the archive was written; nothing was written: run it again", af.name)
	}
	return n, err
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// progressWriter tells fn of every write.
type progressWriter struct {
	w  io.Writer
	fn func(int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.fn(int64(n))
	return n, err
}
