package fakefs

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/callconsent/callconsent/recordings"
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

// wavFormat reads a WAV file's header (recordings.InspectWAV, the one reader of WAV headers):
// its sample rate, and how long its audio lasts.
func wavFormat(path string) (rate int64, d time.Duration, ok bool) {
	if !strings.HasPrefix(path, "/") {
		return 0, 0, false
	}
	info, err := recordings.InspectWAV(path)
	if err != nil {
		return 0, 0, false
	}
	return int64(info.SampleRate), info.Duration, true
}
