package recordings_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/recordings/recordingstest"
)

// Day folders take the recordings root's mode (here 2770, as a shared freeswitch/callconsent
// group would), whatever the umask; a folder outside the root is refused.
func TestFolder_MakeFolder(t *testing.T) {
	root := filepath.Join(t.TempDir(), "rec")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o770|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	f := recordings.NewFolder(root)
	at := time.Date(2026, 11, 26, 23, 30, 0, 0, time.FixedZone("CET", 3600)) // 22:30 UTC: still the 26th
	path := f.RecordingPath("4f8c2a10-1111-4c3b-9a3e-0d5b7e9c2f11", at)
	day := filepath.Join(root, "2026", "11", "26")
	if want := filepath.Join(day, "4f8c2a10-1111-4c3b-9a3e-0d5b7e9c2f11.wav"); path != want {
		t.Fatalf("RecordingPath = %s, want %s (dated in UTC)", path, want)
	}
	for range 2 { // the second call is served from the cache
		if err := f.MakeFolder(path); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{filepath.Join(root, "2026"), filepath.Join(root, "2026", "11"), day} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (os.ModePerm | os.ModeSetgid); got != 0o770|os.ModeSetgid {
			t.Errorf("%s: mode %v, want the root's drwxrws---", d, got)
		}
	}
	for _, bad := range []string{root, filepath.Join(root, "..", "elsewhere"), "/tmp"} {
		if err := f.MakeFolder(filepath.Join(bad, "x.wav")); err == nil {
			t.Errorf("%s accepted as a folder below %s", bad, root)
		}
	}
}

// A stopped recording is complete with its size and duration when its file is a PCM WAV with
// audio, and failed otherwise; either way the file is made private (R-SEC-5).
func TestFolder_Finalise(t *testing.T) {
	dir := t.TempDir()
	f := recordings.NewFolder(dir)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ended := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	t.Run("OK", func(t *testing.T) {
		p := filepath.Join(dir, "ok.wav")
		recordingstest.WriteWAV(t, p, 2, 32000, -1) // 1 s of 8 kHz 16-bit stereo
		os.Chmod(p, 0o644)                          // as FreeSWITCH leaves it
		st, u := f.Finalise(p, ended, log)
		if st != consent.RecordingComplete || u.DurationMS != 1000 || u.Bytes != 32044 || !u.EndedAt.Equal(ended) {
			t.Errorf("Finalise = %s, %+v", st, u)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
		}
	})
	for name, data := range map[string][]byte{
		"ErrEmpty":     {},
		"ErrTruncated": []byte("RIFF\x00\x00"),
		"ErrNotWAV":    []byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		"ErrNoData":    []byte("RIFF\x04\x00\x00\x00WAVE"),
		"ErrNoAudio":   recordingstest.WAV(2, 8000, 16, 0, -1),
		"ErrNotPCM":    notPCM(recordingstest.WAV(1, 8000, 32, 3200, -1)),
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".wav")
			recordingstest.Write(t, p, data)
			if st, _ := f.Finalise(p, ended, log); st != consent.RecordingFailed {
				t.Errorf("Finalise = %s, want failed", st)
			}
		})
	}
	t.Run("ErrMissing", func(t *testing.T) {
		if st, _ := f.Finalise(filepath.Join(dir, "nope.wav"), ended, log); st != consent.RecordingFailed {
			t.Errorf("Finalise = %s, want failed", st)
		}
	})
}

// notPCM turns a WAV's format code into 3 (IEEE float).
func notPCM(b []byte) []byte {
	b[20] = 3
	return b
}
