package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// AuditEntry is an audit log entry as the access archive shows it. The access layer's log is
// read through AuditLog, so that this package depends on no store.
type AuditEntry struct {
	Seq                                          int64
	At                                           time.Time
	Actor, Role, Action, Purpose, Reason, Result string
	Calls                                        []string // the call UUIDs the entry names
}

// AuditLog is the audit log as the access archive reads it.
type AuditLog interface {
	// EntriesNaming returns, oldest first, every entry that names one of the calls.
	EntriesNaming(ctx context.Context, callUUIDs []string) ([]AuditEntry, error)
}

// NoticeFile is a notice the daemon plays now: its language, version and file. An archive
// holds the notice a caller heard when a file of that language and version still has the hash
// the proof names.
type NoticeFile struct {
	Language, Version, Path string
}

// Sources is where an access archive's contents come from.
type Sources struct {
	Store         consent.SubjectFinder
	Audit         AuditLog
	Notices       []NoticeFile
	RecordingsDir string // audio is read only below it
}

// Request is one data subject's access request: whose (by pseudonym), by whom, when.
type Request struct {
	CallerPseudonym string
	By              string // the security officer's user name
	Now             time.Time
	// Since and Until limit the calls to those started in [Since, Until); zero: no limit.
	// A caller with more than MaxCalls calls gets several archives, one per period.
	Since, Until time.Time
	// MaxCalls bounds the calls of one archive (its manifest is built in memory, about 2 KB a
	// call); 0 means DefaultMaxCalls.
	MaxCalls int
}

// DefaultMaxCalls is how many calls one archive holds at most: 90 days of a caller calling
// every 3 minutes, about 100 MB of manifest in memory at worst.
const DefaultMaxCalls = 50000

// Archive is an access archive planned and not yet written: the manifest without the files'
// hashes, and the files to put in. Its Summary is what a dry run prints.
type Archive struct {
	Manifest *Manifest
	files    []archiveFile
}

// archiveFile is a file to copy into the archive from path, expected to hold bytes bytes.
type archiveFile struct {
	name, path string
	bytes      int64
}

// Prepare gathers what the archive of req will hold: the caller's calls with proof, withdrawal,
// recording and tombstones, the notices they heard, the audit entries naming them, and the
// audio files held now. It reads and writes no audio; a caller without calls gets an archive
// that says so.
func Prepare(ctx context.Context, src Sources, req Request) (*Archive, error) {
	if req.CallerPseudonym == "" || req.By == "" || req.Now.IsZero() {
		return nil, consent.Errorf(consent.EINVALID, "an access archive needs the caller's pseudonym, the user making it and the time")
	}
	if req.CallerPseudonym == consent.AnonymousPseudonym {
		// Every caller without a usable number shares this pseudonym: their calls are not one
		// person's, and an archive of them would hand each to the others.
		return nil, consent.Errorf(consent.EINVALID, "the number is not a usable caller number (calls without one cannot be told apart); give the number the caller called from")
	}
	limit := req.MaxCalls
	if limit <= 0 {
		limit = DefaultMaxCalls
	}
	calls, err := src.Store.FindCalls(ctx, consent.CallFilter{CallerPseudonym: req.CallerPseudonym, Since: req.Since, Until: req.Until, Limit: limit + 1})
	if err != nil {
		return nil, fmt.Errorf("find calls: %w", err)
	} else if len(calls) > limit {
		return nil, consent.Errorf(consent.ECONFLICT, "the caller has more than %d calls in the period asked for, more than one archive holds: make one archive per period with --since and --until (the newest call now is from %s)",
			limit, calls[0].StartedAt.UTC().Format(time.DateOnly))
	}
	uuids := make([]string, len(calls))
	for i, c := range calls {
		uuids[i] = c.UUID
	}
	tombs, err := src.Store.FindTombstones(ctx, uuids)
	if err != nil {
		return nil, fmt.Errorf("find tombstones: %w", err)
	}
	var entries []AuditEntry
	if len(uuids) > 0 {
		if entries, err = src.Audit.EntriesNaming(ctx, uuids); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
	}
	m := &Manifest{
		Format: ManifestFormat, FormatVersion: ManifestVersion, CreatedAt: req.Now.UTC(), CreatedBy: req.By,
		CallerPseudonym: req.CallerPseudonym, Since: timePtr(req.Since), Until: timePtr(req.Until), Calls: []ManifestCall{}, Notices: []ManifestNotice{},
		Audit: auditOf(entries, uuids), Files: []ManifestFile{},
	}
	a := &Archive{Manifest: m}
	notices := map[[3]string]*string{} // language, version, sha256 → file in the archive
	for _, c := range calls {
		mc := ManifestCall{UUID: c.UUID, StartedAt: c.StartedAt.UTC(), EndedAt: timePtr(c.EndedAt),
			Language: c.Language, Decision: c.Decision, Tombstones: []ManifestTombstone{}}
		if p := c.Proof; p != nil {
			mc.Proof = &ManifestProof{DecidedAt: p.DecidedAt.UTC(), Digit: p.Digit, Tries: p.Tries, NoticeVersion: p.NoticeVersion,
				NoticeSHA256: p.NoticeSHA256, Language: p.Language, HeardMS: p.HeardMS}
			if p.NoticeVersion != "" {
				mc.Proof.NoticeFile = a.notice(notices, src.Notices, p)
			}
		}
		if c.Withdrawn() {
			mc.Withdrawal = &ManifestWithdrawal{At: c.WithdrawnAt.UTC(), Reason: c.WithdrawalReason}
		}
		if r := c.Recording; r != nil {
			mc.Recording = a.recording(r, src.RecordingsDir)
		}
		for _, t := range tombs {
			if t.CallUUID == c.UUID {
				mc.Tombstones = append(mc.Tombstones, ManifestTombstone{DeletedAt: t.DeletedAt.UTC(), Reason: t.Reason, Bytes: t.Bytes})
			}
		}
		m.Calls = append(m.Calls, mc)
	}
	return a, nil
}

// auditOf turns the entries into the manifest's, each naming only the caller's own calls.
func auditOf(entries []AuditEntry, uuids []string) []ManifestAudit {
	out := []ManifestAudit{}
	for _, e := range entries {
		calls := []string{}
		for _, u := range e.Calls {
			if slices.Contains(uuids, u) && !slices.Contains(calls, u) {
				calls = append(calls, u)
			}
		}
		if len(calls) == 0 {
			continue
		}
		out = append(out, ManifestAudit{Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, Role: e.Role, Action: e.Action,
			Purpose: e.Purpose, Reason: e.Reason, Result: e.Result, Calls: calls})
	}
	return out
}

// heldStates are the recording states whose file holds audio a caller may ask for: finished,
// failed (a partial file until the sweep removes it) or awaiting deletion. A file being written
// is left out and the manifest says so.
var heldStates = []consent.RecordingState{consent.RecordingComplete, consent.RecordingFailed, consent.RecordingDeleting}

// recording describes r and, when its file is held now, adds it to the archive.
func (a *Archive) recording(r *consent.Recording, dir string) *ManifestRecording {
	mr := &ManifestRecording{State: r.State, StartedAt: r.StartedAt.UTC(), EndedAt: timePtr(r.EndedAt), DurationMS: r.DurationMS, Bytes: r.Bytes}
	switch {
	case r.State == consent.RecordingDeleted:
		mr.Note = "deleted: see tombstones"
		return mr
	case !slices.Contains(heldStates, r.State):
		mr.Note = "being recorded when this archive was made: not included; ask again after the call"
		return mr
	case dir == "" || !below(r.Path, dir):
		mr.Note = "the file lies outside the recordings folder: not included"
		return mr
	}
	f, err := openRecording(r.Path)
	if err != nil {
		mr.Note = "no audio file found (never written, or deleted since)"
		return mr
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		mr.Note = "the audio file cannot be read"
		return mr
	}
	name := "audio/" + r.CallUUID + ".wav"
	mr.File = &name
	a.files = append(a.files, archiveFile{name: name, path: r.Path, bytes: fi.Size()})
	return mr
}

// notice returns the archive's file of the notice p names, adding it (and its manifest entry)
// the first time, or nil when no notice file of that language and version has the proof's hash.
func (a *Archive) notice(seen map[[3]string]*string, files []NoticeFile, p *consent.Proof) *string {
	key := [3]string{p.Language, p.NoticeVersion, p.NoticeSHA256}
	if f, ok := seen[key]; ok {
		return f
	}
	mn := ManifestNotice{Language: p.Language, Version: p.NoticeVersion, SHA256: p.NoticeSHA256,
		Note: "no notice file of this language and version is held any more"}
	for _, nf := range files {
		if nf.Language != p.Language || nf.Version != p.NoticeVersion {
			continue
		}
		sum, size, err := hashFile(nf.Path)
		if err != nil {
			mn.Note = "the notice file of this version cannot be read"
			break
		} else if sum != p.NoticeSHA256 {
			mn.Note = "the notice file held under this version is not the audio played (SHA-256 differs)"
			break
		}
		name := "notices/" + safeName(p.Language) + "-" + safeName(p.NoticeVersion) + ".wav"
		mn.File, mn.Note = &name, ""
		a.files = append(a.files, archiveFile{name: name, path: nf.Path, bytes: size})
		break
	}
	seen[key] = mn.File
	a.Manifest.Notices = append(a.Manifest.Notices, mn)
	return mn.File
}

// hashFile returns the hex SHA-256 and size of the file at path.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// below reports whether path lies inside dir (both cleaned, no "..").
func below(path, dir string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && filepath.IsAbs(path) && rel != "." && !strings.HasPrefix(rel, "..")
}

// safeName keeps a language or version usable in a file name: anything but letters, digits,
// dots, dashes and underscores becomes an underscore.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// timePtr is t in UTC, or nil for the zero time (JSON null).
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
