package consent_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// writeFmtWAV writes an 8 kHz PCM WAV whose fmt chunk says channels and bits, with audio bytes.
func writeFmtWAV(t *testing.T, path string, channels, bits uint16, audio int) {
	t.Helper()
	writeWAV(t, path, 1, audio, -1)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint16(b[22:], channels)
	binary.LittleEndian.PutUint16(b[32:], channels*max(bits/8, 1))
	binary.LittleEndian.PutUint16(b[34:], bits)
	if err := os.WriteFile(path, b, 0o600); err != nil {
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
	// A crafted header must not crash the daemon (it divided by zero for fewer than 8 bits per
	// frame, in the reconcile loop, every minute after each restart): whole bytes per sample.
	for _, tc := range []struct {
		channels, bits uint16
		audio          int
		wantMS         int64
	}{{1, 4, 800, 100}, {1, 1, 80, 10}, {2, 12, 3200, 100}} {
		t.Run(fmt.Sprintf("OKBits%dChannels%d", tc.bits, tc.channels), func(t *testing.T) {
			p := filepath.Join(dir, fmt.Sprintf("bits%d.wav", tc.bits))
			writeFmtWAV(t, p, tc.channels, tc.bits, tc.audio)
			info, err := consent.InspectWAV(p)
			if err != nil || info.DurationMS != tc.wantMS {
				t.Errorf("got %+v, %v; want %d ms", info, err, tc.wantMS)
			}
		})
	}
	for _, tc := range []struct {
		name                 string
		channels, rate, bits uint16
	}{{"ErrNoChannels", 0, 8000, 16}, {"ErrNoRate", 1, 0, 16}, {"ErrNoBits", 1, 8000, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".wav")
			writeFmtWAV(t, p, tc.channels, tc.bits, 100)
			if tc.rate == 0 {
				b, _ := os.ReadFile(p)
				binary.LittleEndian.PutUint32(b[24:], 0)
				os.WriteFile(p, b, 0o600)
			}
			if info, err := consent.InspectWAV(p); err == nil {
				t.Errorf("accepted %+v", info)
			}
		})
	}
	t.Run("ErrChunkFlood", func(t *testing.T) {
		p := filepath.Join(dir, "flood.wav")
		b := []byte("RIFF\xff\xff\xff\xffWAVE")
		for range 100000 {
			b = append(b, "LIST\x00\x00\x00\x00"...)
		}
		os.WriteFile(p, b, 0o600)
		if _, err := consent.InspectWAV(p); err == nil || !strings.Contains(err.Error(), "first 64 chunks") {
			t.Errorf("a file of empty chunks: %v, want no data chunk in the first 64", err)
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
