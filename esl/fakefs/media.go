package fakefs

import (
	"encoding/binary"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var toneSeg = regexp.MustCompile(`%\((\d+),(\d+)`)

// mediaDuration estimates how long FreeSWITCH would take to play a file argument:
// silence_stream://N is N ms, tone_stream://%(on,off,...) segments are summed times
// ;loops=N, a readable WAV file lasts what its header says, anything else gets
// Config.DefaultMediaDuration.
func (s *Server) mediaDuration(file string) time.Duration {
	if s.cfg.FixedMediaDuration > 0 {
		return s.cfg.FixedMediaDuration
	}
	switch {
	case strings.HasPrefix(file, "silence_stream://"):
		v, _, _ := strings.Cut(strings.TrimPrefix(file, "silence_stream://"), ",")
		if ms, err := strconv.Atoi(v); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	case strings.HasPrefix(file, "tone_stream://"):
		var total int
		for _, m := range toneSeg.FindAllStringSubmatch(file, -1) {
			on, _ := strconv.Atoi(m[1])
			off, _ := strconv.Atoi(m[2])
			total += on + off
		}
		loops := 1
		if i := strings.Index(file, "loops="); i >= 0 {
			loops, _ = strconv.Atoi(strings.TrimRight(file[i+6:], ";"))
		}
		if total > 0 && loops > 0 {
			return time.Duration(total*loops) * time.Millisecond
		}
		if total > 0 && loops < 0 {
			return time.Hour // endless tone: lasts until something interrupts it
		}
	case strings.HasPrefix(file, "/"):
		if _, d, ok := wavFormat(file); ok {
			return d
		}
	}
	return s.cfg.DefaultMediaDuration
}

// wavFormat reads a RIFF/WAVE header: the sample rate, and the duration from the fmt byte
// rate and the data chunk size.
func wavFormat(path string) (rate int64, d time.Duration, ok bool) {
	if !strings.HasPrefix(path, "/") {
		return 0, 0, false
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	var hdr [12]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return 0, 0, false
	}
	var byteRate, sampleRate uint32
	for i := 0; i < 32; i++ { // walk a bounded number of chunks
		var ch [8]byte
		if _, err := io.ReadFull(f, ch[:]); err != nil {
			return 0, 0, false
		}
		size := binary.LittleEndian.Uint32(ch[4:])
		switch string(ch[:4]) {
		case "fmt ":
			var fmtb [16]byte
			if size < 16 {
				return 0, 0, false
			}
			if _, err := io.ReadFull(f, fmtb[:]); err != nil {
				return 0, 0, false
			}
			sampleRate = binary.LittleEndian.Uint32(fmtb[4:])
			byteRate = binary.LittleEndian.Uint32(fmtb[8:])
			if _, err := f.Seek(int64(size-16+size%2), io.SeekCurrent); err != nil {
				return 0, 0, false
			}
		case "data":
			if byteRate == 0 || sampleRate == 0 {
				return 0, 0, false
			}
			return int64(sampleRate), time.Duration(float64(size) / float64(byteRate) * float64(time.Second)), true
		default:
			if _, err := f.Seek(int64(size+size%2), io.SeekCurrent); err != nil {
				return 0, 0, false
			}
		}
	}
	return 0, 0, false
}
