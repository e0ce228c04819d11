package export_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/export"
)

const (
	testUUID      = "0b8f3c2a-7d41-4e6b-9a55-2c1e8f0d4b37"
	testPseudonym = "5f0c6a3e9b2d4f7a8c1e6b0d3a9f2c5e7b4d1a8f6c3e0b9d2a5f8c1e4b7d0a3f"
)

var testStart = time.Date(2026, 11, 28, 14, 37, 21, 0, time.UTC)

// stereoWAV writes a stereo 8 kHz 16-bit recording of frames frames of noise to path, with a
// LIST/INFO chunk naming the call before its audio (as a recorder could add), and returns the
// samples, left and right interleaved.
func stereoWAV(t testing.TB, path string, frames int) []int16 {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	samples := make([]int16, 2*frames)
	for i := range samples {
		samples[i] = int16(r.IntN(60000) - 30000)
		if samples[i] == 0 {
			samples[i] = 1 // a zero in the source would pass a check for muting
		}
	}
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	info := "INFOICMT" + "\x2c\x00\x00\x00" + "call " + testUUID + " " + testPseudonym[:2] + "\x00"
	for len(info)%2 != 0 {
		info += "\x00"
	}
	b.WriteString("RIFF")
	le(uint32(4 + 8 + len(info) + 8 + 16 + 8 + 4*frames))
	b.WriteString("WAVE")
	b.WriteString("LIST")
	le(uint32(len(info)))
	b.WriteString(info)
	b.WriteString("fmt ")
	le(uint32(16))
	le([]uint16{1, 2})
	le([]uint32{8000, 32000})
	le([]uint16{4, 16})
	b.WriteString("data")
	le(uint32(4 * frames))
	le(samples)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return samples
}

// readPlainWAV parses a WAV that must consist of exactly a 12-byte RIFF header, a 16-byte
// fmt chunk and a data chunk, and returns its samples.
func readPlainWAV(t *testing.T, b []byte) (channels, rate int, samples []int16) {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || le.Uint32(b[16:]) != 16 || string(b[36:40]) != "data" {
		t.Fatalf("not a plain RIFF/WAVE with only fmt and data: % x", b[:min(len(b), 48)])
	}
	if int(le.Uint32(b[4:])) != len(b)-8 || int(le.Uint32(b[40:])) != len(b)-44 {
		t.Fatalf("sizes: riff %d data %d for %d bytes", le.Uint32(b[4:]), le.Uint32(b[40:]), len(b))
	}
	if le.Uint16(b[20:]) != 1 || le.Uint16(b[34:]) != 16 {
		t.Fatalf("format %d bits %d", le.Uint16(b[20:]), le.Uint16(b[34:]))
	}
	channels, rate = int(le.Uint16(b[22:])), int(le.Uint32(b[24:]))
	if le.Uint32(b[28:]) != uint32(rate*channels*2) || int(le.Uint16(b[32:])) != channels*2 {
		t.Fatalf("byte rate %d, block align %d", le.Uint32(b[28:]), le.Uint16(b[32:]))
	}
	samples = make([]int16, (len(b)-44)/2)
	binary.Read(bytes.NewReader(b[44:]), le, samples)
	return channels, rate, samples
}

func mutes(t *testing.T, ss ...string) []export.Mute {
	var ms []export.Mute
	for _, s := range ss {
		m, err := export.ParseMute(s)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

func TestWriteTraining(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "2026", "11", "28", testUUID+".wav")
	os.MkdirAll(filepath.Dir(src), 0o700)
	const frames = 8 * 8000
	orig := stereoWAV(t, src, frames)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "train.wav")
	id := export.NewExportID()
	sc, err := export.WriteTraining(export.Training{
		Recording: src, Out: out, ExportID: id, CallStart: testStart, Language: "nb",
		Mutes: mutes(t, "1-1.5", "1.25-2", "caller:3-4", "agent:3.5-4.5", "0-0.5", "7.5-end", "6-6.004"),
	})
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := os.ReadFile(out)
	channels, rate, got := readPlainWAV(t, wav)
	if channels != 2 || rate != 8000 || len(got) != len(orig) {
		t.Fatalf("%d channels, %d Hz, %d samples; want 2, 8000, %d", channels, rate, len(got), len(orig))
	}
	// Per channel, the muted frames [from, to) after merging; fades of 40 frames (5 ms) inside
	// each span, none at the file's start or end; 6-6.004 is 32 frames, so 16-frame fades.
	spans := [2][][2]int{
		{{0, 4000}, {8000, 16000}, {24000, 32000}, {48000, 48032}, {60000, frames}},
		{{0, 4000}, {8000, 16000}, {28000, 36000}, {48000, 48032}, {60000, frames}},
	}
	for ch := range 2 {
		kind := make([]byte, frames) // 'o' outside, 'z' zero, 'f' fade
		for i := range kind {
			kind[i] = 'o'
		}
		for _, s := range spans[ch] {
			fade := min(40, (s[1]-s[0])/2)
			for fr := s[0]; fr < s[1]; fr++ {
				kind[fr] = 'z'
				if (s[0] > 0 && fr-s[0] < fade) || (s[1] < frames && s[1]-1-fr < fade) {
					kind[fr] = 'f'
				}
			}
		}
		var outside, zero, fade int
		for fr := range frames {
			o, g := orig[2*fr+ch], got[2*fr+ch]
			switch kind[fr] {
			case 'o':
				outside++
				if g != o {
					t.Fatalf("channel %d frame %d outside the muted ranges: %d, source %d", ch, fr, g, o)
				}
			case 'z':
				zero++
				if g != 0 {
					t.Fatalf("channel %d frame %d muted: %d, want 0", ch, fr, g)
				}
			case 'f':
				fade++
				if abs(g) >= abs(o) || (g != 0 && (g < 0) != (o < 0)) {
					t.Fatalf("channel %d frame %d in a fade: %d from %d; want scaled down towards 0", ch, fr, g, o)
				}
			}
		}
		if outside == 0 || zero == 0 || fade != 6*40+2*16 {
			t.Errorf("channel %d: %d frames outside, %d zero, %d fading", ch, outside, zero, fade)
		}
	}
	// The fade is linear: half way into a 40-frame fade the gain is about a half.
	if g, o := got[2*(8000+20)], orig[2*(8000+20)]; abs(g) < abs(o)*2/5 || abs(g) > abs(o)*3/5 {
		t.Errorf("middle of the fade: %d from %d", g, o)
	}

	js, err := os.ReadFile(export.SidecarPath(out))
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back["export_id"] != id || back["call_day"] != "2026-11-28" || back["language"] != "nb" || back["duration_ms"] != 8000.0 ||
		len(back["muted"].([]any)) != 10 || back["fade_ms"] != 5.0 {
		t.Errorf("sidecar: %s", js)
	}
	if sc.Muted[0] != (export.MutedRange{Channel: export.Caller, Start: 0, End: 0.5}) || sc.Muted[9] != (export.MutedRange{Channel: export.Agent, Start: 7.5, End: 8}) {
		t.Errorf("sidecar muted: %+v", sc.Muted)
	}
	// Nothing in either file names the call: no UUID (any case), pseudonym, path, start time.
	for name, b := range map[string][]byte{"wav": wav, "json": js} {
		lower := strings.ToLower(string(b))
		for _, secret := range []string{testUUID, testPseudonym, testPseudonym[:12], src, dir, "2026/11/28", "14:37", "143721", "t14", "call "} {
			if strings.Contains(lower, strings.ToLower(secret)) {
				t.Errorf("%s export holds %q", name, secret)
			}
		}
	}
	for _, p := range []string{out, export.SidecarPath(out)} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != export.FileMode {
			t.Errorf("%s: %v, %v; want mode 0600", p, fi.Mode(), err)
		}
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 2 {
		t.Errorf("out folder holds %d entries; want the wav and its json, no temporary file", len(ents))
	}
}

func abs(v int16) int32 {
	if v < 0 {
		return -int32(v)
	}
	return int32(v)
}

// TestWriteTraining_Refused: bad input writes nothing and says what is wrong.
func TestWriteTraining_Refused(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, testUUID+".wav")
	stereoWAV(t, src, 8000)
	id := export.NewExportID()
	for _, tc := range []struct {
		name  string
		setup func(out string) export.Training
		code  string
		why   string
	}{
		{"ErrBeyondEnd", func(out string) export.Training {
			return export.Training{Recording: src, Out: out, Mutes: mutes(t, "0.5-2")}
		}, consent.EINVALID, "only 1s long"},
		{"ErrNotWav", func(out string) export.Training {
			return export.Training{Recording: src, Out: strings.TrimSuffix(out, ".wav") + ".mp3"}
		}, consent.EINVALID, "ending in .wav"},
		{"ErrOutExists", func(out string) export.Training {
			os.WriteFile(out, []byte("keep me"), 0o600)
			return export.Training{Recording: src, Out: out}
		}, consent.ECONFLICT, "exists"},
		{"ErrSidecarExists", func(out string) export.Training {
			os.WriteFile(export.SidecarPath(out), []byte("keep me"), 0o600)
			return export.Training{Recording: src, Out: out}
		}, consent.ECONFLICT, "exists"},
		{"ErrNoFolder", func(out string) export.Training {
			return export.Training{Recording: src, Out: filepath.Join(filepath.Dir(out), "nope", "x.wav")}
		}, consent.EINVALID, "does not exist"},
		{"ErrMono8bit", func(out string) export.Training {
			p := filepath.Join(filepath.Dir(out), "src8.wav")
			os.WriteFile(p, append([]byte("RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x40\x1f\x00\x00\x01\x00\x08\x00data\x04\x00\x00\x00"), 1, 2, 3, 4), 0o600)
			return export.Training{Recording: p, Out: out}
		}, consent.ECONFLICT, "only 16-bit PCM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outDir := t.TempDir()
			tr := tc.setup(filepath.Join(outDir, "out.wav"))
			tr.ExportID = id
			before, _ := os.ReadDir(outDir)
			_, err := export.WriteTraining(tr)
			if consent.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("err = %v; want %s saying %q", err, tc.code, tc.why)
			}
			after, _ := os.ReadDir(outDir)
			if len(after) != len(before) {
				t.Errorf("folder had %d entries, has %d: something was left", len(before), len(after))
			}
			for _, e := range after {
				if b, _ := os.ReadFile(filepath.Join(outDir, e.Name())); strings.HasSuffix(e.Name(), "out.wav") && string(b) != "keep me" {
					t.Errorf("%s was replaced", e.Name())
				}
			}
		})
	}
	t.Run("ErrGone", func(t *testing.T) {
		_, err := export.WriteTraining(export.Training{Recording: filepath.Join(dir, "gone.wav"), Out: filepath.Join(t.TempDir(), "o.wav"), ExportID: id})
		if consent.ErrorCode(err) != consent.ECONFLICT || !strings.Contains(err.Error(), "is gone") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrSymlink", func(t *testing.T) {
		link := filepath.Join(dir, "link.wav")
		os.Symlink(src, link)
		_, err := export.WriteTraining(export.Training{Recording: link, Out: filepath.Join(t.TempDir(), "o.wav"), ExportID: id})
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("err = %v", err)
		}
	})
}
