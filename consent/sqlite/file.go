package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Modes of the files the store creates: readable by the service account only (R-SEC-5).
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// prepareFiles creates the database's folder (0700) when it is missing and the database file
// (0600) before SQLite does, so that the file never exists with the process umask's mode.
// SQLite gives the -wal and -shm files the mode of the database file. An existing folder is
// left alone: it is the administrator's, and may be shared with other private files.
func prepareFiles(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return fmt.Errorf("create db folder: %w", err)
		}
		// MkdirAll's mode is reduced by the umask; set it exactly.
		if err := os.Chmod(dir, dirMode); err != nil {
			return fmt.Errorf("chmod db folder: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("db folder: %w", err)
	}

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if err == nil {
		// An empty file is a valid empty SQLite database.
		if err := f.Close(); err != nil {
			return fmt.Errorf("create db file: %w", err)
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create db file: %w", err)
	}
	return chmodFiles(path)
}

// chmodFiles sets mode 0600 on the database file and on its -wal and -shm files where they
// exist, independent of the umask. An existing database with a wider mode is tightened rather
// than refused: the data in it is exactly what must not be readable by others.
func chmodFiles(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("stat %s: %w", filepath.Base(p), err)
		}
		if fi.Mode().Perm() == fileMode {
			continue
		}
		if err := os.Chmod(p, fileMode); err != nil {
			return fmt.Errorf("chmod %s: %w", filepath.Base(p), err)
		}
	}
	return nil
}
