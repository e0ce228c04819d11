package recordings_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/recordings/recordingstest"
)

func TestInspectWAV(t *testing.T) {
	dir := t.TempDir()
	t.Run("OK", func(t *testing.T) {
		p := filepath.Join(dir, "ok.wav")
		recordingstest.WriteWAV(t, p, 2, 32000, -1) // 1 s of 8 kHz 16-bit stereo
		info, err := recordings.InspectWAV(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Format != recordings.PCM || info.Channels != 2 || info.SampleRate != 8000 || info.Bits != 16 ||
			info.Duration != time.Second || info.Bytes != 32044 || info.DataOffset != 44 {
			t.Errorf("got %+v", info)
		}
	})
	t.Run("OKUnfinalisedHeader", func(t *testing.T) {
		p := filepath.Join(dir, "grow.wav")
		recordingstest.WriteWAV(t, p, 2, 16000, 0x7fffffff)
		info, err := recordings.InspectWAV(p)
		if err != nil || info.Duration != 500*time.Millisecond {
			t.Errorf("got %+v, %v; want 500 ms of what is there", info, err)
		}
	})
	// A shipped notice, as config check describes it.
	t.Run("OKNotice", func(t *testing.T) {
		info, err := recordings.InspectWAV(filepath.Join("..", "notices", "invalid-en.wav"))
		if err != nil {
			t.Fatal(err)
		}
		if info.Format != recordings.PCM || info.Channels != 1 || info.SampleRate != 8000 || info.Bits != 16 || info.Duration < time.Second {
			t.Fatalf("info = %+v", info)
		}
		if got := info.String(); !strings.HasPrefix(got, "PCM 8000 Hz mono 16-bit, ") {
			t.Errorf("String() = %q", got)
		}
	})
	// A crafted header must not crash the daemon (it divided by zero for fewer than 8 bits per
	// frame, in the reconcile loop, every minute after each restart): whole bytes per sample.
	for _, tc := range []struct {
		channels, bits uint16
		audio          int
		want           time.Duration
	}{{1, 4, 800, 100 * time.Millisecond}, {1, 1, 80, 10 * time.Millisecond}, {2, 12, 3200, 100 * time.Millisecond}} {
		t.Run(fmt.Sprintf("OKBits%dChannels%d", tc.bits, tc.channels), func(t *testing.T) {
			p := filepath.Join(dir, fmt.Sprintf("bits%d.wav", tc.bits))
			recordingstest.Write(t, p, recordingstest.WAV(tc.channels, 8000, tc.bits, tc.audio, -1))
			info, err := recordings.InspectWAV(p)
			if err != nil || info.Duration != tc.want {
				t.Errorf("got %+v, %v; want %s", info, err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name                 string
		channels, rate, bits uint16
	}{{"ErrNoChannels", 0, 8000, 16}, {"ErrNoRate", 1, 0, 16}, {"ErrNoBits", 1, 8000, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".wav")
			recordingstest.Write(t, p, recordingstest.WAV(tc.channels, tc.rate, tc.bits, 100, -1))
			if info, err := recordings.InspectWAV(p); err == nil {
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
		if _, err := recordings.InspectWAV(p); err == nil || !strings.Contains(err.Error(), "first 64 chunks") {
			t.Errorf("a file of empty chunks: %v, want no data chunk in the first 64", err)
		}
	})
	for name, tc := range map[string]struct {
		data    []byte
		notWAV  bool // the error is ErrNotWAV
		wantErr string
	}{
		"ErrEmpty":     {[]byte{}, true, ""},
		"ErrTruncated": {[]byte("RIFF\x00\x00"), true, ""},
		"ErrNotWAV":    {[]byte("ID3 this is an mp3, honestly"), true, ""},
		"ErrNoData":    {[]byte("RIFF\x04\x00\x00\x00WAVE"), false, "no data chunk"},
		"ErrDataFirst": {[]byte("RIFF\x0c\x00\x00\x00WAVEdata\x00\x00\x00\x00"), false, "data chunk before its fmt chunk"},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".wav")
			os.WriteFile(p, tc.data, 0o600)
			_, err := recordings.InspectWAV(p)
			if err == nil || errors.Is(err, recordings.ErrNotWAV) != tc.notWAV || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want ErrNotWAV %v, %q", err, tc.notWAV, tc.wantErr)
			}
		})
	}
	t.Run("ErrMissing", func(t *testing.T) {
		var pe *os.PathError
		if _, err := recordings.InspectWAV(filepath.Join(dir, "nope.wav")); !errors.As(err, &pe) {
			t.Errorf("err = %v, want the *fs.PathError of the open", err)
		}
	})
}
