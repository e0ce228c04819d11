package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
)

// absPaths makes every path absolute and resolves relative notice files against notices-dir.
// FreeSWITCH opens the notice and recording paths itself, from its own working folder, so a
// relative path that works for us would silently play or record elsewhere.
func (c *Config) absPaths() error {
	for _, p := range []*string{&c.DB, &c.KeyFile, &c.AuditKeyFile, &c.RecordingsDir, &c.ESLPasswordFile, &c.NoticesDir, &c.ControlSocket} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("config: resolve %s: %w", *p, err)
		}
		*p = abs
	}
	for lang, n := range c.Notices {
		n.Lang = lang
		n.File = c.noticePath(n.File)
		if n.InvalidFile != "" {
			n.InvalidFile = c.noticePath(n.InvalidFile)
		}
		c.Notices[lang] = n
	}
	return nil
}

func (c *Config) noticePath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.NoticesDir, p)
}

// hashNotices computes the SHA-256 of each notice file. A failure is kept in Notice.Err: the
// read-only commands (calls, policy) must work on a host without the audio.
func (c *Config) hashNotices() {
	for lang, n := range c.Notices {
		n.SHA256, n.Err = fileSHA256(n.File)
		n.Duration = 0
		if info, err := recordings.InspectWAV(n.File); err == nil && info.Format == recordings.PCM {
			n.Duration = info.Duration.Truncate(time.Millisecond)
		}
		c.Notices[lang] = n
	}
}

// CheckMinNotice refuses a min-notice longer than a notice: the caller could never hear that
// much of it, so no key would ever count.
func (c *Config) CheckMinNotice() error {
	if p := c.minNoticeProblem(); p != "" {
		return invalidKey("min-notice", fmtDuration(c.MinNotice), p)
	}
	return nil
}

func (c *Config) minNoticeProblem() string {
	for _, lang := range c.NoticeLangs() {
		if n := c.Notices[lang]; n.Err == nil && c.MinNotice > n.Duration {
			return fmt.Sprintf("is longer than the %s notice (%s, %s)", lang, n.File, fmtDuration(n.Duration.Round(time.Millisecond)))
		}
	}
	return ""
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CheckNotices returns an EINVALID error naming the file and the problem when a notice or
// invalid-choice prompt cannot be read or is not a playable WAV file (playableWAV, the check of
// config check). run calls it before taking a call: a proof of consent holds the hash of the
// audio the caller heard, so that audio must be something FreeSWITCH can play.
func (c *Config) CheckNotices() error {
	for _, lang := range c.NoticeLangs() {
		n := c.Notices[lang]
		if n.Err != nil {
			return consent.Errorf(consent.EINVALID, "config: notice.%s.file: %s", lang, fileProblem(n.Err))
		}
		if _, err := playableWAV(n.File); err != nil {
			return consent.Errorf(consent.EINVALID, "config: notice.%s.file: %s", lang, wavProblem(n.File, err))
		}
		if n.InvalidFile == "" {
			continue
		}
		if _, err := playableWAV(n.InvalidFile); err != nil {
			return consent.Errorf(consent.EINVALID, "config: notice.%s.invalid-file: %s", lang, wavProblem(n.InvalidFile, err))
		}
	}
	return nil
}

// wavProblem is fileProblem for playableWAV's errors: those about the content do not name the
// file, so the path goes in front.
func wavProblem(path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fileProblem(err)
	}
	return path + ": " + err.Error()
}

// NoticeLangs returns the configured languages, sorted, for stable output.
func (c *Config) NoticeLangs() []string {
	langs := make([]string, 0, len(c.Notices))
	for l := range c.Notices {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	return langs
}

// ESLPassword reads the password for FreeSWITCH's inbound ESL from esl-password-file. It is
// kept out of Config so that printing a Config can never leak it.
func (c *Config) ESLPassword() (string, error) {
	b, err := os.ReadFile(c.ESLPasswordFile)
	if err != nil {
		return "", consent.Errorf(consent.EINVALID, "config: esl-password-file: %s", fileProblem(err))
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" || strings.ContainsAny(pw, "\r\n") {
		return "", consent.Errorf(consent.EINVALID, "config: esl-password-file: %s must hold the password on one line", c.ESLPasswordFile)
	}
	return pw, nil
}

// fileProblem describes a file error with its path, in words an operator can act on.
func fileProblem(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist) && errors.As(err, &pe):
		return fmt.Sprintf("%s does not exist", pe.Path)
	case errors.Is(err, fs.ErrPermission) && errors.As(err, &pe):
		return fmt.Sprintf("%s is not readable by this user", pe.Path)
	}
	return err.Error()
}
