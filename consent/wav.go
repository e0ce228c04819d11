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

// maxWAVChunks bounds the chunks read before the data chunk. FreeSWITCH writes "fmt " and
// "data" (a LIST or fact chunk at most besides); a file of millions of empty chunks would
// otherwise cost a read per chunk in the reconcile loop.
const maxWAVChunks = 64

// InspectWAV reads the header of a PCM WAV file and checks it against the file's size. A file
// that is empty, not RIFF/WAVE, or cut off inside its header is an error: such a recording is
// not usable and is marked failed. A data chunk shorter than its header claims (a recorder that
// died before finalising) still yields the audio that is there. Any header, also one crafted to
// be absurd (no channels, 0 bits per sample), gives an error or a result, never a panic: the
// recordings folder is writable by FreeSWITCH's account, not only by us.
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
	return inspectWAV(f, fi.Size())
}

// inspectWAV is InspectWAV on r, a file of size bytes.
func inspectWAV(r io.ReadSeeker, size int64) (WAVInfo, error) {
	info := WAVInfo{Bytes: size}
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return info, fmt.Errorf("wav header truncated (%d bytes)", size)
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return info, fmt.Errorf("not a RIFF/WAVE file")
	}
	off := int64(12)
	for range maxWAVChunks {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return info, fmt.Errorf("wav: no data chunk")
		}
		off += 8
		n := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch string(ch[0:4]) {
		case "fmt ":
			if err := readFmt(r, n, &info); err != nil {
				return info, err
			}
		case "data":
			if info.SampleRate == 0 {
				return info, fmt.Errorf("wav: data before fmt")
			}
			info.DataBytes = max(min(n, size-off), 0)
			info.DurationMS = info.DataBytes / frameBytes(info) * 1000 / int64(info.SampleRate)
			return info, nil
		}
		off += n + n%2
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			return info, err
		}
	}
	return info, fmt.Errorf("wav: no data chunk in the first %d chunks", maxWAVChunks)
}

// readFmt reads a "fmt " chunk of n bytes into info and refuses values no PCM file has: a
// frame of no channels, no bits or no samples a second cannot be measured.
func readFmt(r io.Reader, n int64, info *WAVInfo) error {
	var fm [16]byte
	if n < 16 {
		return fmt.Errorf("wav: fmt chunk too short")
	}
	if _, err := io.ReadFull(r, fm[:]); err != nil {
		return fmt.Errorf("wav: fmt chunk truncated")
	}
	if binary.LittleEndian.Uint16(fm[0:2]) != 1 {
		return fmt.Errorf("wav: not PCM")
	}
	info.Channels = int(binary.LittleEndian.Uint16(fm[2:4]))
	info.SampleRate = int(binary.LittleEndian.Uint32(fm[4:8]))
	info.Bits = int(binary.LittleEndian.Uint16(fm[14:16]))
	switch {
	case info.Channels == 0:
		return fmt.Errorf("wav: fmt chunk says 0 channels")
	case info.SampleRate == 0:
		return fmt.Errorf("wav: fmt chunk says 0 samples a second")
	case info.Bits == 0:
		return fmt.Errorf("wav: fmt chunk says 0 bits per sample")
	}
	return nil
}

// frameBytes is the size of one frame (a sample of every channel): each sample takes whole
// bytes, so 12-bit audio takes 2 and 4-bit audio 1 (never 0, which would divide by zero).
func frameBytes(info WAVInfo) int64 {
	return int64(info.Channels) * int64((info.Bits+7)/8)
}
