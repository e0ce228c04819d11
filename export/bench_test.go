package export_test

import (
	"os"
	"path/filepath"
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
