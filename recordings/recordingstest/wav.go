// Package recordingstest writes WAV files for tests: recordings as FreeSWITCH leaves them,
// cut-off ones, and crafted headers. Only tests import it.
package recordingstest

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// WAV returns a WAV file of format 1 (PCM) with a 44-byte header giving channels, rate and
// bits, followed by audio bytes of silence. claim, when >= 0, replaces the data size in the
// header, as a recorder that died before finalising leaves it.
func WAV(channels, rate, bits uint16, audio, claim int) []byte {
	if claim < 0 {
		claim = audio
	}
	var b bytes.Buffer
	le := func(v any) {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			panic(err) // only fixed-size values are written here
		}
	}
	b.WriteString("RIFF")
	le(uint32(36 + claim))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(channels)
	le(uint32(rate))
	le(uint32(rate) * uint32(channels) * uint32(bits) / 8) // byte rate
	le(channels * bits / 8)                                // block align
	le(bits)
	b.WriteString("data")
	le(uint32(claim))
	b.Write(make([]byte, audio))
	return b.Bytes()
}

// WriteWAV writes an 8 kHz 16-bit recording with the given channels and audio bytes to path
// (mode 0600), claim as for WAV.
func WriteWAV(t testing.TB, path string, channels uint16, audio, claim int) {
	t.Helper()
	Write(t, path, WAV(channels, 8000, 16, audio, claim))
}

// Write writes b to path with mode 0600 or fails the test.
func Write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
