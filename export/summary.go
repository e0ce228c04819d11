package export

import "strings"

// Summary is what an access archive holds, in numbers.
type Summary struct {
	Calls         int   `json:"calls"`
	Recordings    int   `json:"recordings"`     // audio files in the archive
	AudioBytes    int64 `json:"audio_bytes"`    // their size
	Deleted       int   `json:"deleted"`        // calls whose audio was deleted (tombstones)
	Notices       int   `json:"notices"`        // notice files in the archive
	AuditEntries  int   `json:"audit_entries"`  // audit entries naming the calls
	ArchiveFiles  int   `json:"archive_files"`  // files in the zip, manifest.json and README.txt included
	NoticesAbsent int   `json:"notices_absent"` // notices heard whose audio the archive cannot hold
}

// Summary counts what the archive holds.
func (a *Archive) Summary() Summary {
	s := Summary{Calls: len(a.Manifest.Calls), AuditEntries: len(a.Manifest.Audit), ArchiveFiles: len(a.files) + 2}
	for _, f := range a.files {
		if strings.HasPrefix(f.name, "audio/") {
			s.Recordings++
			s.AudioBytes += f.bytes
		} else {
			s.Notices++
		}
	}
	for _, c := range a.Manifest.Calls {
		if len(c.Tombstones) > 0 {
			s.Deleted++
		}
	}
	for _, n := range a.Manifest.Notices {
		if n.File == nil {
			s.NoticesAbsent++
		}
	}
	return s
}

// PlannedFile is a file an archive will hold, as a dry run lists it (before its hash exists).
type PlannedFile struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

// Planned lists the audio and notice files the archive will hold, besides README.txt and
// manifest.json.
func (a *Archive) Planned() []PlannedFile {
	out := make([]PlannedFile, len(a.files))
	for i, f := range a.files {
		out[i] = PlannedFile{Name: f.name, Bytes: f.bytes}
	}
	return out
}
