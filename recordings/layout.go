// Package recordings owns the recordings folder that FreeSWITCH writes and callconsent keeps:
// its layout <dir>/<YYYY>/<MM>/<DD>/<uuid>.wav, the day folders, the modes of folders and files,
// the one reader of WAV headers, and the walk over the dated folders that retention deletes
// from. It is an adapter: the consent domain asks for what it needs through
// consent.RecordingFiles, which Folder implements, and does no file I/O itself.
package recordings

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Ext is the file name extension of every recording.
const Ext = ".wav"

// Path returns where the recording of a call started at t is written:
// <dir>/<YYYY>/<MM>/<DD>/<uuid>.wav, dated in UTC so the layout never depends on the host's zone.
func Path(dir, callUUID string, t time.Time) string {
	t = t.UTC()
	return filepath.Join(dir, t.Format("2006"), t.Format("01"), t.Format("02"), callUUID+Ext)
}

// CallUUID returns the call UUID a recording's file name carries, or "" when the name is not
// <uuid>.wav (a stray file, which only an orphan sweep may delete).
func CallUUID(path string) string {
	u := strings.TrimSuffix(filepath.Base(path), Ext)
	if !consent.ValidUUID(u) {
		return ""
	}
	return u
}

// level is one dated level of the layout: its folder names are width digits from lo to hi.
type level struct{ width, lo, hi int }

// levels are the year, month and day folders, outermost first.
var levels = [3]level{{4, 1970, 9999}, {2, 1, 12}, {2, 1, 31}}

// parse returns the number a folder name of this level stands for, and whether it is one.
func (l level) parse(name string) (int, bool) {
	if len(name) != l.width || strings.IndexFunc(name, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(name)
	return n, err == nil && n >= l.lo && n <= l.hi
}

// date is midnight UTC of a day; a day or month past the end rolls over, as time.Date does.
func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
