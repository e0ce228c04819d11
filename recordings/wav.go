package recordings

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// PCM is the WAV format code of linear PCM, the format FreeSWITCH records in and plays natively.
const PCM = 1

// WAVInfo describes a WAV file as found on disk: what its header says, checked against the
// file's size.
type WAVInfo struct {
	Bytes      int64 // file size
	Format     int   // format code of the fmt chunk: PCM, or anything else a file claims
	Channels   int
	SampleRate int
	Bits       int
	DataBytes  int64         // audio bytes actually present after the header
	DataOffset int64         // where the audio starts in the file (after the data chunk's header)
	Duration   time.Duration // of the audio present
}

// String gives the format in the words of the README, e.g. "PCM 8000 Hz mono 16-bit, 12.3s".
// config check shows it for each notice, because FreeSWITCH plays a notice of the wrong rate or
// encoding as noise or not at all, and nothing else would notice before a caller does.
func (w WAVInfo) String() string {
	enc := fmt.Sprintf("format %d", w.Format)
	if w.Format == PCM {
		enc = "PCM"
	}
	ch := fmt.Sprintf("%d channels", w.Channels)
	if w.Channels == 1 {
		ch = "mono"
	} else if w.Channels == 2 {
		ch = "stereo"
	}
	return fmt.Sprintf("%s %d Hz %s %d-bit, %s", enc, w.SampleRate, ch, w.Bits, w.Duration.Round(100*time.Millisecond))
}

// ErrNotWAV means a file does not start with a RIFF/WAVE header.
var ErrNotWAV = errors.New("not a WAV file (no RIFF/WAVE header)")

// maxWAVChunks bounds the chunks read before the data chunk. FreeSWITCH writes "fmt " and
// "data" (a LIST or fact chunk at most besides); a file of millions of empty chunks would
// otherwise cost a read per chunk in the reconcile loop.
const maxWAVChunks = 64

// InspectWAV reads the header of a WAV file and checks it against the file's size: the one
// reader of WAV headers, for recordings (reconcile and the end of a call decide from it whether
// a recording is usable) and for the notices (config check and run refuse one FreeSWITCH would
// not play). A file that is empty, not RIFF/WAVE, cut off inside its header or without a data
// chunk is an error. A data chunk shorter than its header claims (a recorder that died before
// finalising) still yields the audio that is there. Any header, also one crafted to be absurd
// (no channels, 0 bits per sample), gives an error or a result, never a panic: the recordings
// folder is writable by FreeSWITCH's account, not only by us. An error opening the file is the
// *fs.PathError of os.Open.
func InspectWAV(path string) (WAVInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return WAVInfo{}, err
	}
	defer f.Close()
	return InspectOpenWAV(f)
}

// InspectOpenWAV is InspectWAV on a file already open, read from its start: for a reader that
// opened the file itself (without following links) and reads the audio after the header from
// the same file, never from what a path names a moment later.
func InspectOpenWAV(f *os.File) (WAVInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return WAVInfo{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return WAVInfo{}, err
	}
	return inspectWAV(f, fi.Size())
}

// inspectWAV is InspectWAV on r, a file of size bytes.
func inspectWAV(r io.ReadSeeker, size int64) (WAVInfo, error) {
	info := WAVInfo{Bytes: size}
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return info, ErrNotWAV
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return info, ErrNotWAV
	}
	off := int64(12)
	for range maxWAVChunks {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return info, errors.New("WAV file has no data chunk")
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
				return info, errors.New("WAV data chunk before its fmt chunk")
			}
			info.DataOffset = off
			info.DataBytes = max(min(n, size-off), 0)
			frames := info.DataBytes / frameBytes(info)
			info.Duration = time.Duration(frames) * time.Second / time.Duration(info.SampleRate)
			return info, nil
		}
		off += n + n%2 // chunks are padded to an even size
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			return info, err
		}
	}
	return info, fmt.Errorf("WAV file has no data chunk in the first %d chunks", maxWAVChunks)
}

// readFmt reads a "fmt " chunk of n bytes into info and refuses values no audio file has: a
// frame of no channels, no bits or no samples a second cannot be measured.
func readFmt(r io.Reader, n int64, info *WAVInfo) error {
	var fm [16]byte
	if n < 16 {
		return fmt.Errorf("WAV fmt chunk too short (%d bytes)", n)
	}
	if _, err := io.ReadFull(r, fm[:]); err != nil {
		return errors.New("WAV fmt chunk truncated")
	}
	info.Format = int(binary.LittleEndian.Uint16(fm[0:2]))
	info.Channels = int(binary.LittleEndian.Uint16(fm[2:4]))
	info.SampleRate = int(binary.LittleEndian.Uint32(fm[4:8]))
	info.Bits = int(binary.LittleEndian.Uint16(fm[14:16]))
	switch {
	case info.Channels == 0:
		return errors.New("WAV fmt chunk says 0 channels")
	case info.SampleRate == 0:
		return errors.New("WAV fmt chunk says 0 samples a second")
	case info.Bits == 0:
		return errors.New("WAV fmt chunk says 0 bits per sample")
	}
	return nil
}

// frameBytes is the size of one frame (a sample of every channel): each sample takes whole
// bytes, so 12-bit audio takes 2 and 4-bit audio 1 (never 0, which would divide by zero).
func frameBytes(info WAVInfo) int64 {
	return int64(info.Channels) * int64((info.Bits+7)/8)
}
