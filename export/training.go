package export

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
)

// Training is one pseudonymised training export to write (R-PSEUDO-3): the call's audio with
// the mutes applied, as a plain WAV, and a sidecar JSON beside it. Nothing in either names the
// call: the link from ExportID to the call lives only in the audit log.
type Training struct {
	Recording string    // path of the call's recording (read without following links)
	Out       string    // the WAV to write, ending in .wav; the sidecar is SidecarPath(Out)
	Mutes     []Mute    // ranges to silence
	CallStart time.Time // only its UTC day goes into the sidecar
	Language  string    // language of the call's notice
	ExportID  string    // from NewExportID
	// Progress, when set, is told the audio frames written and the total as it goes.
	Progress func(done, total int64)
}

// Sidecar is the JSON written beside a training export: what a trainer needs to use the audio
// and nothing that identifies the call. The day (not the time) of the call, because a start
// time down to the second would find the call in the database again.
type Sidecar struct {
	ExportID   string       `json:"export_id"`
	CallDay    string       `json:"call_day"` // YYYY-MM-DD, UTC
	Language   string       `json:"language"`
	DurationMS int64        `json:"duration_ms"`
	SampleRate int          `json:"sample_rate"`
	Channels   []Channel    `json:"channels"` // left to right
	FadeMS     int64        `json:"fade_ms"`
	Muted      []MutedRange `json:"muted"`
}

// MutedRange is one muted span of one channel in the sidecar, in seconds (exact to the frame),
// after overlapping ranges were merged.
type MutedRange struct {
	Channel Channel `json:"channel"`
	Start   float64 `json:"start_s"`
	End     float64 `json:"end_s"`
}

// NewExportID returns a random id for a training export: 128 bits, so it can be neither guessed
// nor derived from the call, in a shape (x-…, base32) that is no call UUID.
func NewExportID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return "x-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ValidExportID reports whether s has the shape NewExportID gives.
func ValidExportID(s string) bool {
	return len(s) == 28 && strings.HasPrefix(s, "x-") && strings.Trim(s[2:], "abcdefghijklmnopqrstuvwxyz234567") == ""
}

// SidecarPath is the sidecar of the WAV file out: the same name ending in .json.
func SidecarPath(out string) string { return strings.TrimSuffix(out, ".wav") + ".json" }

// WriteTraining writes t's WAV and sidecar, each to a temporary file that is synced and then
// named (mode 0600; an existing file is never replaced: ECONFLICT). It fails (EINVALID) on an
// --out not ending in .wav and on mutes that do not fit the recording; it writes nothing then.
// Either both files exist afterwards or neither.
func WriteTraining(t Training) (*Sidecar, error) {
	sc, p, err := PrepareTraining(t)
	if err != nil {
		return nil, err
	}
	if err := p.Commit(); err != nil {
		return nil, err
	}
	return sc, nil
}

// PrepareTraining is WriteTraining up to the sync: both files are written under temporary
// names until the Pending is committed.
func PrepareTraining(t Training) (*Sidecar, *Pending, error) {
	if !strings.HasSuffix(t.Out, ".wav") || strings.HasSuffix(t.Out, "/.wav") || t.Out == ".wav" {
		return nil, nil, consent.Errorf(consent.EINVALID, "--out %q: name a file ending in .wav (its sidecar .json goes beside it)", clip(t.Out))
	}
	if !ValidExportID(t.ExportID) {
		return nil, nil, consent.Errorf(consent.EINTERNAL, "export id %q is not one of NewExportID", t.ExportID)
	}
	for _, name := range []string{t.Out, SidecarPath(t.Out)} {
		if err := checkFree(name); err != nil {
			return nil, nil, err
		}
	}
	src, err := openRecording(t.Recording)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, consent.Errorf(consent.ECONFLICT, "the call's recording file is gone (deleted since, or never written): nothing to export")
	} else if err != nil {
		return nil, nil, consent.Errorf(consent.ECONFLICT, "the call's recording cannot be read: %v", err)
	}
	defer src.Close()
	info, err := recordings.InspectOpenWAV(src)
	if err == nil {
		err = checkTrainable(info)
	}
	if err != nil {
		return nil, nil, consent.Errorf(consent.ECONFLICT, "the call's recording cannot be exported: %v", err)
	}
	frames := frameCount(info)
	p, err := planMutes(t.Mutes, frames, info.SampleRate, info.Channels)
	if err != nil {
		return nil, nil, err
	}
	if _, err := src.Seek(info.DataOffset, 0); err != nil {
		return nil, nil, err
	}
	sc := sidecar(t, info, frames, p)
	body, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return nil, nil, err
	}

	wav, err := createOut(t.Out)
	if err != nil {
		return nil, nil, err
	}
	var progress func(int64)
	if t.Progress != nil {
		progress = func(n int64) { t.Progress(n, frames) }
	}
	if err := writeMuted(wav, src, info.Channels, info.SampleRate, frames, p, progress); err != nil {
		wav.abort()
		return nil, nil, fmt.Errorf("write %s: %w", t.Out, err)
	}
	if err := wav.sync(); err != nil {
		wav.abort()
		return nil, nil, err
	}
	js, err := createOut(SidecarPath(t.Out))
	if err != nil {
		wav.abort()
		return nil, nil, err
	}
	if _, err := js.Write(append(body, '\n')); err != nil {
		js.abort()
		wav.abort()
		return nil, nil, fmt.Errorf("write %s: %w", js.final, err)
	}
	if err := js.sync(); err != nil {
		js.abort()
		wav.abort()
		return nil, nil, err
	}
	return sc, &Pending{files: []*outFile{wav, js}}, nil
}

// sidecar describes the export t of a recording of frames frames muted by p.
func sidecar(t Training, info recordings.WAVInfo, frames int64, p plan) *Sidecar {
	sc := &Sidecar{
		ExportID:   t.ExportID,
		CallDay:    t.CallStart.UTC().Format(time.DateOnly),
		Language:   t.Language,
		DurationMS: frames * 1000 / int64(info.SampleRate),
		SampleRate: info.SampleRate,
		Channels:   []Channel{Both},
		FadeMS:     FadeDuration.Milliseconds(),
		Muted:      []MutedRange{},
	}
	if info.Channels == 2 {
		sc.Channels = []Channel{Caller, Agent}
	}
	sec := func(fr int64) float64 {
		return math.Round(float64(fr)*1e6/float64(info.SampleRate)) / 1e6
	}
	for ch, spans := range p {
		for _, s := range spans {
			sc.Muted = append(sc.Muted, MutedRange{Channel: sc.Channels[ch], Start: sec(s.from), End: sec(s.to)})
		}
	}
	return sc
}
