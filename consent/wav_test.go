package consent_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// writeWAV writes a PCM WAV with the given channels and audio bytes; claim overrides the data
// size in the header when >= 0 (a recorder that died before finalising).
func writeWAV(t *testing.T, path string, channels, audio, claim int) {
	t.Helper()
	if claim < 0 {
		claim = audio
	}
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+claim))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], 8000)
	binary.LittleEndian.PutUint32(h[28:], uint32(8000*2*channels))
	binary.LittleEndian.PutUint16(h[32:], uint16(2*channels))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(claim))
	if err := os.WriteFile(path, append(h, make([]byte, audio)...), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestInspectWAV(t *testing.T) {
	dir := t.TempDir()
	t.Run("OK", func(t *testing.T) {
		p := filepath.Join(dir, "ok.wav")
		writeWAV(t, p, 2, 32000, -1) // 1 s of 8 kHz 16-bit stereo
		info, err := consent.InspectWAV(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Channels != 2 || info.SampleRate != 8000 || info.Bits != 16 || info.DurationMS != 1000 || info.Bytes != 32044 {
			t.Errorf("got %+v", info)
		}
	})
	t.Run("OKUnfinalisedHeader", func(t *testing.T) {
		p := filepath.Join(dir, "grow.wav")
		writeWAV(t, p, 2, 16000, 0x7fffffff)
		info, err := consent.InspectWAV(p)
		if err != nil || info.DurationMS != 500 {
			t.Errorf("got %+v, %v; want 500 ms of what is there", info, err)
		}
	})
	for name, data := range map[string][]byte{
		"ErrEmpty":     {},
		"ErrTruncated": []byte("RIFF\x00\x00"),
		"ErrNotWAV":    []byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		"ErrNoData":    []byte("RIFF\x04\x00\x00\x00WAVE"),
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".wav")
			os.WriteFile(p, data, 0o600)
			if _, err := consent.InspectWAV(p); err == nil {
				t.Error("accepted")
			}
			if st, _ := consent.Finalise(p, time.Now()); st != consent.RecordingFailed {
				t.Errorf("Finalise = %s, want failed", st)
			}
		})
	}
	t.Run("FinaliseMissing", func(t *testing.T) {
		if st, _ := consent.Finalise(filepath.Join(dir, "nope.wav"), time.Now()); st != consent.RecordingFailed {
			t.Errorf("Finalise = %s, want failed", st)
		}
	})
}
