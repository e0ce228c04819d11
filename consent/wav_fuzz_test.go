package consent

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// pcmWAV is a WAV file with the given fmt values and audio bytes, for the fuzz seeds.
func pcmWAV(channels, rate, bits uint16, audio int) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+audio))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, []any{uint32(16), uint16(1), channels, uint32(rate),
		uint32(rate) * uint32(channels) * uint32(bits) / 8, channels * bits / 8, bits})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(audio))
	b.Write(make([]byte, audio))
	return b.Bytes()
}

// FuzzInspectWAV: whatever lies in the recordings folder, inspecting it gives an error or a
// result that makes sense, never a panic (a 4-bit WAV divided by zero and crashed the daemon
// from the reconcile loop, every minute). testdata/fuzz/FuzzInspectWAV holds that file.
func FuzzInspectWAV(f *testing.F) {
	f.Add(pcmWAV(2, 8000, 16, 32000))
	f.Add(pcmWAV(1, 8000, 16, 0))
	f.Add(pcmWAV(1, 8000, 4, 100))
	f.Add(pcmWAV(1, 8000, 12, 99))
	f.Add([]byte("RIFF\x04\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := inspectWAV(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		switch {
		case info.Channels < 1 || info.SampleRate < 1 || info.Bits < 1:
			t.Errorf("accepted a format without audio: %+v", info)
		case info.DataBytes < 0 || info.DataBytes > info.Bytes-44: // RIFF (12), fmt (8+16) and data (8) come first
			t.Errorf("data bytes %d of a %d-byte file", info.DataBytes, info.Bytes)
		case info.DurationMS < 0 || info.DurationMS > info.DataBytes*1000/int64(info.SampleRate):
			t.Errorf("duration %d ms for %d bytes at %d Hz", info.DurationMS, info.DataBytes, info.SampleRate)
		}
	})
}
