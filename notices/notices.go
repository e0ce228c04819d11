// Package notices ships the default consent notices inside the binary, so that a fresh
// `callconsent --data-dir DIR run` works without installing anything: at start the daemon
// writes them to the notices folder if they are missing there. Admins replace them with studio
// recordings and a new version id in the configuration; the consent proof records which one
// was played.
package notices

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed *.wav *.txt notices.yaml SHA256SUMS
var files embed.FS

// Version is the version id of the shipped notices (see notices.yaml).
const Version = "2026-11-26.1"

// Languages lists the languages the shipped notices cover.
var Languages = []string{"nb", "en"}

// FS returns the embedded notice files.
func FS() fs.FS { return files }

// Install writes every shipped file that is missing in dir, with mode 0644 so that FreeSWITCH,
// which plays them, can read them. Existing files are left alone: an admin's replacement wins.
// It returns the names it wrote.
func Install(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create notices folder: %w", err)
	}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, err
	}
	var wrote []string
	for _, e := range entries {
		dst := filepath.Join(dir, e.Name())
		if _, err := os.Stat(dst); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return wrote, fmt.Errorf("notice %s: %w", e.Name(), err)
		}
		data, err := files.ReadFile(e.Name())
		if err != nil {
			return wrote, err
		}
		if err := writeFile(dst, data); err != nil {
			return wrote, fmt.Errorf("install notice %s: %w", e.Name(), err)
		}
		wrote = append(wrote, e.Name())
	}
	return wrote, nil
}

// writeFile writes through a temporary name and renames, so a crash never leaves a truncated
// notice that FreeSWITCH would play and the proof would hash.
func writeFile(dst string, data []byte) error {
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}
