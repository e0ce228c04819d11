package export_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/callconsent/callconsent/export"
)

// BenchmarkWriteTraining exports 10 minutes of 8 kHz stereo (19.2 MB) with three mutes: the
// cost of reading, muting, writing and syncing one call (MB/s of audio).
func BenchmarkWriteTraining(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "src.wav")
	stereoWAV(b, src, 600*8000)
	fi, _ := os.Stat(src)
	b.SetBytes(fi.Size())
	ms := []export.Mute{}
	for _, s := range []string{"10-20", "caller:100-130.5", "agent:500-end"} {
		m, _ := export.ParseMute(s)
		ms = append(ms, m)
	}
	for i := 0; b.Loop(); i++ {
		out := filepath.Join(dir, "out.wav")
		os.Remove(out)
		os.Remove(export.SidecarPath(out))
		if _, err := export.WriteTraining(export.Training{Recording: src, Out: out, ExportID: export.NewExportID(), Mutes: ms}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteTraining_ConstantMemory: the writer allocates the same for 2 s as for 2 minutes of
// audio (a chunk, the header, the sidecar): it streams.
func TestWriteTraining_ConstantMemory(t *testing.T) {
	dir := t.TempDir()
	alloc := func(frames int) uint64 {
		src := filepath.Join(dir, "src.wav")
		os.Remove(src)
		stereoWAV(t, src, frames)
		out := filepath.Join(dir, "out.wav")
		os.Remove(out)
		os.Remove(export.SidecarPath(out))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := export.WriteTraining(export.Training{Recording: src, Out: out, ExportID: export.NewExportID(), Mutes: mutes(t, "1-1.5")}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(2*8000), alloc(120*8000)
	t.Logf("allocated %d bytes for 2 s, %d bytes for 120 s (3.8 MB) of stereo audio", small, large)
	if large > 256<<10 || large > small+16<<10 {
		t.Errorf("allocated %d bytes for 120 s, %d for 2 s: memory grows with the audio", large, small)
	}
}
