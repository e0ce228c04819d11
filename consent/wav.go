package consent

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// WAVInfo describes a PCM WAV file as found on disk.
type WAVInfo struct {
	Bytes      int64 // file size
	Channels   int
	SampleRate int
	Bits       int
	DataBytes  int64 // audio bytes actually present after the header
	DurationMS int64
}

// InspectWAV reads the header of a PCM WAV file and checks it against the file's size. A file
// that is empty, not RIFF/WAVE, or cut off inside its header is an error: such a recording is
// not usable and is marked failed. A data chunk shorter than its header claims (a recorder that
// died before finalising) still yields the audio that is there.
func InspectWAV(path string) (WAVInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return WAVInfo{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return WAVInfo{}, err
	}
	info := WAVInfo{Bytes: fi.Size()}
	var riff [12]byte
	if _, err := io.ReadFull(f, riff[:]); err != nil {
		return info, fmt.Errorf("wav header truncated (%d bytes)", fi.Size())
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return info, fmt.Errorf("not a RIFF/WAVE file")
	}
	off := int64(12)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(f, ch[:]); err != nil {
			return info, fmt.Errorf("wav: no data chunk")
		}
		off += 8
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch string(ch[0:4]) {
		case "fmt ":
			var fm [16]byte
			if size < 16 {
				return info, fmt.Errorf("wav: fmt chunk too short")
			}
			if _, err := io.ReadFull(f, fm[:]); err != nil {
				return info, fmt.Errorf("wav: fmt chunk truncated")
			}
			if binary.LittleEndian.Uint16(fm[0:2]) != 1 {
				return info, fmt.Errorf("wav: not PCM")
			}
			info.Channels = int(binary.LittleEndian.Uint16(fm[2:4]))
			info.SampleRate = int(binary.LittleEndian.Uint32(fm[4:8]))
			info.Bits = int(binary.LittleEndian.Uint16(fm[14:16]))
			if _, err := f.Seek(off+size+size%2, io.SeekStart); err != nil {
				return info, err
			}
			off += size + size%2
		case "data":
			if info.SampleRate == 0 || info.Channels == 0 || info.Bits == 0 {
				return info, fmt.Errorf("wav: data before fmt")
			}
			info.DataBytes = min(size, fi.Size()-off)
			frame := int64(info.Channels * info.Bits / 8)
			info.DurationMS = info.DataBytes / frame * 1000 / int64(info.SampleRate)
			return info, nil
		default:
			if _, err := f.Seek(off+size+size%2, io.SeekStart); err != nil {
				return info, err
			}
			off += size + size%2
		}
	}
}
