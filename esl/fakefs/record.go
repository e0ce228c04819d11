package fakefs

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// recording is one growing stereo WAV (8 kHz, 16-bit): left = the caller, right = what
// the caller hears. Frames are appended by the server's recorder goroutine and the RIFF
// header is rewritten each time, so the file is a valid WAV of its current size.
type recording struct {
	path   string
	vars   []kv // Recording-Variable-* headers, in the order given
	minSec int
	start  time.Time

	mu     sync.Mutex
	f      *os.File
	frames int64
}

const wavHeaderLen = 44

// pattern is one second of audio that loops seamlessly: 800 Hz 500 ms on/off on the
// left (the caller stand-in of the transcripts), continuous 440 Hz on the right.
var pattern = func() []byte {
	b := make([]byte, 8000*4)
	for i := 0; i < 8000; i++ {
		t := float64(i) / 8000
		var l float64
		if i < 4000 {
			l = 0.3 * math.Sin(2*math.Pi*800*t)
		}
		r := 0.3 * math.Sin(2*math.Pi*440*t)
		binary.LittleEndian.PutUint16(b[i*4:], uint16(int16(l*32767)))
		binary.LittleEndian.PutUint16(b[i*4+2:], uint16(int16(r*32767)))
	}
	return b
}()

func wavHeader(frames int64) []byte {
	h := make([]byte, wavHeaderLen)
	data := uint32(frames * 4)
	copy(h, "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+data)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 2) // stereo
	binary.LittleEndian.PutUint32(h[24:], 8000)
	binary.LittleEndian.PutUint32(h[28:], 8000*4)
	binary.LittleEndian.PutUint16(h[32:], 4)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], data)
	return h
}

// openRecording creates the file (and its directories, as FreeSWITCH does).
func openRecording(path string, now time.Time) (*recording, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(wavHeader(0)); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return &recording{path: path, f: f, start: now}, nil
}

// flushLocked appends the frames due up to now and rewrites the header.
func (r *recording) flushLocked(now time.Time) {
	if r.f == nil {
		return
	}
	due := int64(now.Sub(r.start)) * 8000 / int64(time.Second)
	if due <= r.frames {
		return
	}
	buf := make([]byte, 0, (due-r.frames)*4)
	for n := r.frames; n < due; {
		off := n % 8000
		chunk := min(8000-off, due-n)
		buf = append(buf, pattern[off*4:(off+chunk)*4]...)
		n += chunk
	}
	if _, err := r.f.WriteAt(buf, wavHeaderLen+r.frames*4); err != nil {
		return
	}
	r.frames = due
	r.f.WriteAt(wavHeader(r.frames), 0)
}

// stop finalises the file. zeroTail reproduces the all-zero last 20 ms frame of a
// recording stopped by uuid_record ... stop (recordings.txt). A recording shorter than
// RECORD_MIN_SEC is discarded like FreeSWITCH does.
func (r *recording) stop(now time.Time, zeroTail bool) (samples, size int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return r.frames, wavHeaderLen + r.frames*4
	}
	r.flushLocked(now)
	if zeroTail && r.frames >= 160 {
		r.f.WriteAt(make([]byte, 160*4), wavHeaderLen+(r.frames-160)*4)
	}
	r.f.WriteAt(wavHeader(r.frames), 0)
	r.f.Close()
	r.f = nil
	if r.minSec > 0 && r.frames < int64(r.minSec)*8000 {
		os.Remove(r.path)
	}
	return r.frames, wavHeaderLen + r.frames*4
}

// recorder is the single goroutine that feeds all growing recordings.
type recorder struct {
	s    *Server
	mu   sync.Mutex
	recs map[*recording]struct{}
	quit chan struct{}
	wg   sync.WaitGroup
}

func newRecorder(s *Server) *recorder { return &recorder{s: s, recs: map[*recording]struct{}{}} }

func (rc *recorder) start() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.quit != nil {
		return
	}
	rc.quit = make(chan struct{})
	rc.wg.Add(1)
	go rc.loop(rc.quit)
}

func (rc *recorder) stop() {
	rc.mu.Lock()
	q := rc.quit
	rc.quit = nil
	rc.mu.Unlock()
	if q != nil {
		close(q)
	}
	rc.wg.Wait()
}

func (rc *recorder) add(r *recording) {
	rc.mu.Lock()
	rc.recs[r] = struct{}{}
	rc.mu.Unlock()
}

func (rc *recorder) remove(r *recording) {
	rc.mu.Lock()
	delete(rc.recs, r)
	rc.mu.Unlock()
}

func (rc *recorder) loop(quit chan struct{}) {
	defer rc.wg.Done()
	t := time.NewTicker(rc.s.cfg.RecordFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case now := <-t.C:
			rc.mu.Lock()
			list := make([]*recording, 0, len(rc.recs))
			for r := range rc.recs {
				list = append(list, r)
			}
			rc.mu.Unlock()
			for _, r := range list {
				r.mu.Lock()
				r.flushLocked(now)
				r.mu.Unlock()
			}
		}
	}
}

// parseRecordArg splits `<path> [{k=v,...}]` (a numeric limit is ignored).
func (s *Server) parseRecordArg(arg string) (path string, vars []kv) {
	path, rest, _ := strings.Cut(strings.TrimSpace(arg), " ")
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "{") && strings.HasSuffix(rest, "}") {
		for _, p := range strings.Split(rest[1:len(rest)-1], ",") {
			if k, v, ok := strings.Cut(p, "="); ok {
				vars = append(vars, kv{strings.TrimSpace(k), strings.TrimSpace(v)})
			}
		}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.cfg.RecordingsDir, path)
	}
	return path, vars
}

// recordSession starts a recording; a failure is only logged, exactly like FreeSWITCH:
// no RECORD_START, no file, and EXECUTE_COMPLETE still says _none_.
func (c *call) recordSession(arg string) {
	path, vars := c.s.parseRecordArg(arg)
	c.res.RecordPaths = append(c.res.RecordPaths, path)
	if c.spec.FailRecordSession || c.s.cfg.FailRecordSession {
		c.s.log.Info("record_session made to fail", "uuid", c.b.uuid, "path", path)
		return
	}
	r, err := openRecording(path, time.Now())
	if err != nil {
		c.s.log.Warn("record_session failed", "uuid", c.b.uuid, "path", path, "err", err)
		return
	}
	r.vars = vars
	for _, v := range vars {
		if v.k == "RECORD_MIN_SEC" {
			r.minSec, _ = strconv.Atoi(v.v)
		}
	}
	c.recs = append(c.recs, r)
	c.s.rec.add(r)
	c.emit("RECORD_START", siteRecordStart, true, r.tail("")...)
}

func (r *recording) tail(cause string) []kv {
	t := []kv{{"Record-File-Path", encode(r.path)}}
	for _, v := range r.vars {
		t = append(t, kv{"Recording-Variable-" + v.k, encode(v.v)})
	}
	if cause != "" {
		t = append(t, kv{"Record-Completion-Cause", cause})
	}
	return t
}

// stopRecording finalises the file, then sets the record_* variables and fires
// RECORD_STOP (to the socket if subscribed, and to the control connections).
func (c *call) stopRecording(r *recording, cause string, zeroTail bool) {
	c.s.rec.remove(r)
	samples, size := r.stop(time.Now(), zeroTail)
	c.b.set("record_file_size", strconv.FormatInt(size, 10))
	c.b.set("record_samples", strconv.FormatInt(samples, 10))
	c.b.set("record_seconds", strconv.FormatInt(samples/8000, 10))
	c.b.set("record_ms", strconv.FormatInt(samples/8, 10))
	c.b.set("record_completion_cause", cause)
	c.res.Recordings = append(c.res.Recordings, RecordingInfo{Path: r.path, Samples: samples, FileSize: size, Cause: cause})
	c.emit("RECORD_STOP", siteRecordStop, true, r.tail(cause)...)
}

// apiStopRecord is `uuid_record <uuid> stop <path|all>` (h-withdraw-live): the reply
// goes out before RECORD_STOP.
func (c *call) apiStopRecord(path string, deliver func(string)) {
	var hit, keep []*recording
	for _, r := range c.recs {
		if path == "all" || r.path == path {
			hit = append(hit, r)
		} else {
			keep = append(keep, r)
		}
	}
	if len(hit) == 0 {
		deliver("-ERR Cannot stop record session!\n")
		return
	}
	deliver("+OK Success\n")
	c.recs = keep
	for _, r := range hit {
		c.stopRecording(r, "success-maxtime", true)
	}
}

// appStopRecord is the stop_record_session application: like uuid_record stop, without a reply.
func (c *call) appStopRecord(path string) {
	var keep []*recording
	for _, r := range c.recs {
		if path == "all" || r.path == path {
			c.stopRecording(r, "success-maxtime", true)
		} else {
			keep = append(keep, r)
		}
	}
	c.recs = keep
}
