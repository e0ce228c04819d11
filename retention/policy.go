// Package retention deletes what policy §7 says must not be kept (R-RETAIN-1..4): recordings
// older than the retention period, recordings whose consent was withdrawn, partial files of
// failed recordings, audio of calls without a grant, and orphan files with no row.
//
// It is split like restic's forget: Due is a pure function from an Inventory (rows and files)
// to the Actions to take, checked against golden files; the Sweeper builds the inventory, guards
// against clocks and configurations that would delete the wrong things, and carries the actions
// out crash-safely; the Scheduler runs the Sweeper from cron.
//
// Cost. A sweep reads only rows that may be due (an index range on started_at and the failed,
// deleting and withdrawn rows) and walks only date folders that lie wholly before the
// retention cutoff: every file left there is expired or an orphan, and the folder is removed
// once empty, so the next sweep does not read it again. Orphans and audio without a grant in
// the recent folders are found by a full scan, which costs O(all files) and therefore runs
// rarely (Options.OrphanScan, or when OrphanScanEvery has passed since the last one). The
// price: such a file in a recent folder may live up to OrphanScanEvery longer.
package retention

import (
	"path/filepath"
	"sort"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
)

// Policy says what is due. The zero value is not useful; start from DefaultPolicy.
type Policy struct {
	Retention       time.Duration // recordings older than this (from their start) are deleted
	OrphanGrace     time.Duration // files without a row are deleted once their mtime is this old
	MaxDeleteShare  float64       // a sweep refuses to delete a larger share of all recordings
	MaxDeleteFloor  int           // ... unless it deletes at most this many files
	OrphanScanEvery time.Duration // how often the recent folders are scanned for orphans
}

// DefaultPolicy returns the policy of §7: 90 days, a day of grace for orphans, at most half of
// all recordings in one sweep. The floor keeps the share guard from refusing the last few
// recordings of a small or winding-down installation.
func DefaultPolicy() Policy {
	return Policy{
		Retention:       2160 * time.Hour,
		OrphanGrace:     24 * time.Hour,
		MaxDeleteShare:  0.5,
		MaxDeleteFloor:  100,
		OrphanScanEvery: 24 * time.Hour,
	}
}

// Validate refuses a policy that would delete too much or nothing: a zero retention would make
// every recording due at once.
func (p Policy) Validate() error {
	switch {
	case p.Retention <= 0:
		return consent.Errorf(consent.EINVALID, "retention must be positive")
	case p.OrphanGrace <= 0:
		return consent.Errorf(consent.EINVALID, "orphan grace must be positive")
	case p.MaxDeleteShare <= 0 || p.MaxDeleteShare > 1:
		return consent.Errorf(consent.EINVALID, "max delete share must be in (0, 1]")
	case p.MaxDeleteFloor < 0 || p.OrphanScanEvery < 0:
		return consent.Errorf(consent.EINVALID, "max delete floor and orphan scan interval must not be negative")
	}
	return nil
}

// Row is a call with its recording, as far as the policy needs it. State is "" for a call
// without a recording row, which the inventory holds only to judge a file named after it.
type Row struct {
	CallUUID  string                 `json:"call"`
	Path      string                 `json:"path,omitempty"` // absolute, as stored
	State     consent.RecordingState `json:"state,omitempty"`
	StartedAt time.Time              `json:"started"` // of the recording; retention counts from here
	Bytes     int64                  `json:"bytes,omitempty"`
	Decision  consent.Decision       `json:"decision"`
	Withdrawn bool                   `json:"withdrawn,omitempty"`
}

// File is a file found in a date folder of the recordings folder (recordings.Walker).
type File = recordings.File

// Inventory is what Due decides on: the rows that may be due, the calls that files name, the
// files found, and the deletions marked by an earlier sweep that did not finish.
type Inventory struct {
	Rows    []Row               `json:"rows"`
	Files   []File              `json:"files"`
	Intents []consent.Tombstone `json:"intents,omitempty"`
}

// Action is one file to delete and why. State is the recording row's state ("" for a file
// without a row); a row not yet deleting is marked deleting before the unlink. Alarm is set for
// what must never happen: the sweeper logs it as an error and counts it.
type Action struct {
	CallUUID string                 `json:"call,omitempty"`
	Path     string                 `json:"path"`
	Reason   consent.DeletionReason `json:"reason"`
	Bytes    int64                  `json:"bytes"`
	State    consent.RecordingState `json:"state,omitempty"`
	Alarm    string                 `json:"alarm,omitempty"`
	// Resume is set when the deletion was decided before (a withdrawal, or a sweep that
	// stopped half-way): it is committed intent, and no guard holds it back.
	Resume bool `json:"resume,omitempty"`
}

// Alarms, written on Actions.
const (
	AlarmNotGranted = "audio of a call without a grant"
	AlarmReappeared = "file of a deleted recording is present again"
)

// Due returns the actions the policy requires at now, ordered by path. It is pure: everything
// it knows is in the inventory, so the same input always gives the same output.
func Due(in Inventory, now time.Time, p Policy) []Action {
	cutoff, graceCut := now.Add(-p.Retention), now.Add(-p.OrphanGrace)
	byPath, byUUID := map[string]*Row{}, map[string]*Row{}
	for i := range in.Rows {
		r := &in.Rows[i]
		if r.State != "" {
			byPath[filepath.Clean(r.Path)] = r
		}
		byUUID[r.CallUUID] = r
	}
	intents := map[string]consent.Tombstone{}
	for _, t := range in.Intents {
		intents[filepath.Clean(t.Path)] = t
	}
	out := map[string]Action{}

	for _, r := range byPath {
		if r.State == consent.RecordingDeleted {
			continue
		}
		reason, ok := rowReason(*r, cutoff)
		if t, marked := intents[filepath.Clean(r.Path)]; marked && r.State == consent.RecordingDeleting {
			reason, ok = t.Reason, true
		}
		if ok {
			out[filepath.Clean(r.Path)] = Action{CallUUID: r.CallUUID, Path: r.Path, Reason: reason, Bytes: r.Bytes,
				State: r.State, Resume: r.State == consent.RecordingDeleting}
		}
	}
	for path, t := range intents {
		// An intent whose row is gone or already deleted is finished (again) all the same:
		// the unlink of a missing file succeeds and the intent is cleared.
		if r := byPath[path]; out[path].Path == "" && (r == nil || r.State == consent.RecordingDeleted) {
			a := Action{CallUUID: t.CallUUID, Path: t.Path, Reason: t.Reason, Bytes: t.Bytes, Resume: true}
			if r != nil {
				a.State = r.State
			}
			out[path] = a
		}
	}
	for _, f := range in.Files {
		path := filepath.Clean(f.Path)
		if a, ok := out[path]; ok {
			if a.Bytes == 0 {
				a.Bytes = f.Bytes
				out[path] = a
			}
			continue
		}
		if r := byPath[path]; r != nil {
			if r.State == consent.RecordingDeleted {
				// No second tombstone is written; the reason only names it in the report.
				reason, ok := rowReason(*r, cutoff)
				if !ok {
					reason = consent.ReasonOrphan
				}
				out[path] = Action{CallUUID: r.CallUUID, Path: r.Path, Reason: reason, Bytes: f.Bytes, State: r.State, Alarm: AlarmReappeared}
			}
			continue // a young recording: not due
		}
		if a, ok := fileAction(f, byUUID, graceCut); ok {
			out[path] = a
		}
	}

	actions := make([]Action, 0, len(out))
	for _, a := range out {
		actions = append(actions, a)
	}
	sort.Slice(actions, func(i, j int) bool { return actions[i].Path < actions[j].Path })
	return actions
}

// rowReason says why a recording row is due, if it is. Withdrawal comes first because it is
// the caller's wish; retention before failed so that a resumed deletion (whose reason was not
// kept) is named the same way it would have been when decided.
func rowReason(r Row, cutoff time.Time) (consent.DeletionReason, bool) {
	switch {
	case r.Withdrawn:
		return consent.ReasonWithdrawal, true
	case r.StartedAt.Before(cutoff):
		return consent.ReasonRetention, true
	case r.State == consent.RecordingFailed:
		return consent.ReasonFailed, true
	case r.State == consent.RecordingDeleting:
		// Deleting without a recorded intent and not withdrawn: someone decided to delete it;
		// finish it. Named failed, the only remaining reason a row is deleted early.
		return consent.ReasonFailed, true
	}
	return "", false
}

// fileAction judges a file that no recording row explains, by the call its name points to.
func fileAction(f File, byUUID map[string]*Row, graceCut time.Time) (Action, bool) {
	uuid := recordings.CallUUID(f.Path)
	a := Action{CallUUID: uuid, Path: f.Path, Bytes: f.Bytes}
	switch c := byUUID[uuid]; {
	case c != nil && c.Decision != consent.DecisionGranted:
		// No grace: this audio should never have been written (R-CONSENT-3).
		a.Reason, a.Alarm = consent.ReasonNotGranted, AlarmNotGranted
	case c != nil && c.Withdrawn:
		a.Reason = consent.ReasonWithdrawal
	case c != nil && c.State != "" && c.State != consent.RecordingDeleted:
		// The call's recording is stored under another path: the folder was moved or is
		// configured through a symlink. This file is most likely that recording; deleting it as
		// an orphan would delete every recording at the next orphan scan. Its row decides, and
		// the row's unreachable path is reported as an error when it is due.
		return Action{}, false
	case f.ModTime.Before(graceCut):
		a.Reason = consent.ReasonOrphan
	default:
		return Action{}, false // young: FreeSWITCH may still be writing a file we learn of later
	}
	return a, true
}
