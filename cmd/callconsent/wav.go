package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// wavInfo is the format of a WAV file as its header states it. config check reports it because
// FreeSWITCH plays a notice of the wrong rate or encoding as noise or not at all, and nothing
// else would notice before a caller does.
type wavInfo struct {
	Format     uint16 // 1 = PCM
	Channels   uint16
	SampleRate uint32
	Bits       uint16
	Duration   time.Duration // from the data chunk size; 0 when there is none
}

// String gives the format in the words of the README, e.g. "PCM 8000 Hz mono 16-bit, 12.3s".
func (w wavInfo) String() string {
	enc := fmt.Sprintf("format %d", w.Format)
	if w.Format == 1 {
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

var errNotWAV = errors.New("not a WAV file (no RIFF/WAVE header)")

// playableWAV reads the header of a notice or invalid-choice prompt and says why FreeSWITCH
// would not play it as one: not a WAV file, not 16-bit PCM (FreeSWITCH's native sound files;
// anything else may play as noise or not at all), or no audio. config check reports its answer
// and run refuses to start on it, so run never plays, nor hashes into a proof of consent, a
// file that config check fails.
func playableWAV(path string) (wavInfo, error) {
	w, err := readWAVInfo(path)
	switch {
	case err != nil:
		return w, err
	case w.Format != 1 || w.Bits != 16:
		return w, fmt.Errorf("%s: want 16-bit PCM", w)
	case w.Channels == 0 || w.SampleRate == 0 || w.Duration == 0:
		return w, fmt.Errorf("%s: no audio", w)
	}
	return w, nil
}

// readWAVInfo reads the RIFF/WAVE header of path: the "fmt " chunk and the size of "data".
func readWAVInfo(path string) (wavInfo, error) {
	var w wavInfo
	f, err := os.Open(path)
	if err != nil {
		return w, err
	}
	defer f.Close()
	var hdr [12]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return w, errNotWAV
	}
	var byteRate uint32
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(f, ch[:]); err != nil {
			break // end of file: whatever was found is the answer
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		skip := int64(size) + int64(size&1) // chunks are padded to an even size
		switch id {
		case "fmt ":
			var b [16]byte
			if size < 16 {
				return w, fmt.Errorf("WAV fmt chunk too short (%d bytes)", size)
			}
			if _, err := io.ReadFull(f, b[:]); err != nil {
				return w, fmt.Errorf("WAV fmt chunk: %w", err)
			}
			w.Format = binary.LittleEndian.Uint16(b[0:2])
			w.Channels = binary.LittleEndian.Uint16(b[2:4])
			w.SampleRate = binary.LittleEndian.Uint32(b[4:8])
			byteRate = binary.LittleEndian.Uint32(b[8:12])
			w.Bits = binary.LittleEndian.Uint16(b[14:16])
			haveFmt = true
			skip -= 16
		case "data":
			if byteRate > 0 {
				w.Duration = time.Duration(float64(size) / float64(byteRate) * float64(time.Second))
			}
			if haveFmt {
				return w, nil
			}
		}
		if _, err := f.Seek(skip, io.SeekCurrent); err != nil {
			return w, err
		}
	}
	if !haveFmt {
		return w, errors.New("WAV file has no fmt chunk")
	}
	return w, nil
}
