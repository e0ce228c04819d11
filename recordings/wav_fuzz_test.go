package recordings

import (
	"bytes"
	"testing"

	"github.com/callconsent/callconsent/recordings/recordingstest"
)

// FuzzInspectWAV: whatever lies in the recordings folder, inspecting it gives an error or a
// result that makes sense, never a panic (a 4-bit WAV divided by zero and crashed the daemon
// from the reconcile loop, every minute). testdata/fuzz/FuzzInspectWAV holds that file.
func FuzzInspectWAV(f *testing.F) {
	f.Add(recordingstest.WAV(2, 8000, 16, 32000, -1))
	f.Add(recordingstest.WAV(1, 8000, 16, 0, -1))
	f.Add(recordingstest.WAV(1, 8000, 4, 100, -1))
	f.Add(recordingstest.WAV(1, 8000, 12, 99, -1))
	f.Add([]byte("RIFF\x04\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := inspectWAV(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		ms := info.Duration.Milliseconds()
		switch {
		case info.Channels < 1 || info.SampleRate < 1 || info.Bits < 1:
			t.Errorf("accepted a format without audio: %+v", info)
		case info.DataBytes < 0 || info.DataBytes > info.Bytes-44: // RIFF (12), fmt (8+16) and data (8) come first
			t.Errorf("data bytes %d of a %d-byte file", info.DataBytes, info.Bytes)
		case ms < 0 || ms > info.DataBytes*1000/int64(info.SampleRate):
			t.Errorf("duration %d ms for %d bytes at %d Hz", ms, info.DataBytes, info.SampleRate)
		}
	})
}
