package fakefs

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// playback is a running `playback`, as mod_dptools runs it over switch_ivr_play_file:
// `{timeout=T}` before the file bounds how much is read, `@@N` after it starts at sample N,
// and each key is taken from the DTMF queue and dropped unless playback_terminators names it
// ("*" when unset, "any", "none"), in which case it ends the playback. The file is read in
// blocks (Config.PlaybackBlock samples) and every block read is played, which is why
// {timeout=2000} plays 2.048 s at 8 kHz (measured on FreeSWITCH 1.11); playback_samples is
// what was read, playback_terminator_used the key that ended it.
type playback struct {
	a       *app
	rate    int64         // samples per second of the file
	dur     time.Duration // how long it plays when nothing ends it
	read    int64         // samples read by then
	left    int64         // samples from the start sample to the end of the file
	block   int64         // samples per read
	started time.Time
}

// parsePlaybackArg splits `{timeout=T}file@@N` into its parts (T in ms, 0 when absent).
func parsePlaybackArg(arg string) (file string, timeout, from int64) {
	file = strings.TrimSpace(arg)
	if strings.HasPrefix(file, "{") {
		if end := strings.IndexByte(file, '}'); end > 0 {
			for _, kv := range strings.Split(file[1:end], ",") {
				if k, v, ok := strings.Cut(kv, "="); ok && k == "timeout" {
					timeout, _ = strconv.ParseInt(v, 10, 64)
				}
			}
			file = file[end+1:]
		}
	}
	if i := strings.Index(file, "@@"); i >= 0 {
		from, _ = strconv.ParseInt(file[i+2:], 10, 64)
		file = file[:i]
	}
	return file, max(timeout, 0), max(from, 0)
}

func (c *call) startPlayback(a *app) {
	c.start(a)
	c.b.del("playback_terminator_used") // playback clears it before it plays
	file, timeout, from := parsePlaybackArg(a.arg)
	if strings.HasPrefix(file, "/") {
		if _, err := os.Stat(file); err != nil {
			c.b.set("current_application_response", "FILE NOT FOUND")
			c.complete(a, "FILE%20NOT%20FOUND")
			return
		}
	}
	p := &playback{a: a, rate: 8000, block: int64(c.s.cfg.PlaybackBlock), started: time.Now()}
	total := c.s.mediaDuration(file)
	if rate, d, ok := wavFormat(file); ok && (timeout > 0 || c.s.cfg.FixedMediaDuration == 0) {
		p.rate, total = rate, d
	}
	p.left = max(int64(total.Seconds()*float64(p.rate))-from, 0)
	if c.s.cfg.FixedMediaDuration > 0 && timeout == 0 && from > 0 {
		p.left = int64(c.s.cfg.FixedMediaDuration.Seconds() * float64(p.rate)) // the rest, compressed
	}
	p.read = p.left
	if timeout > 0 {
		want := timeout * p.rate / 1000
		p.read = min((want+p.block-1)/p.block*p.block, p.left)
	}
	p.dur = time.Duration(p.read) * time.Second / time.Duration(p.rate)
	a.play = p
	a.onHangup = func(now time.Time) string {
		c.setPlaybackRead(p.readBy(now), p.rate)
		c.b.set("current_application_response", "PLAYBACK ERROR")
		return "PLAYBACK%20ERROR"
	}
	if from == 0 && !strings.Contains(file, "_stream://") {
		c.prompts++
		c.fire(AtPrompt, c.prompts)
	} else if from > 0 {
		c.fire(AtNoticeHeard, 1)
	}
	c.after(p.dur, func() {
		if c.cur == a {
			c.setPlaybackRead(p.read, p.rate)
			c.b.set("current_application_response", "FILE PLAYED")
			c.complete(a, "FILE%20PLAYED")
		}
	})
	c.takeDTMF()
}

// readBy is how many samples the playback had read at now: whole blocks, one ahead.
func (p *playback) readBy(now time.Time) int64 {
	played := int64(now.Sub(p.started).Seconds() * float64(p.rate))
	return min(p.read, (played/p.block+1)*p.block)
}

// key is a key taken from the queue while the playback runs.
func (p *playback) key(c *call, d string) {
	v, _ := c.b.get("playback_terminators")
	switch v {
	case "":
		v = "*"
	case "any":
		v = "1234567890*#"
	case "none":
		v = ""
	}
	if !strings.Contains(v, d) {
		return // dropped: the playback goes on
	}
	c.b.set("playback_terminator_used", d)
	c.res.DigitAccepted = time.Now() // the daemon learns the key from this completion
	c.setPlaybackRead(p.readBy(time.Now()), p.rate)
	c.b.set("current_application_response", "FILE PLAYED")
	c.complete(p.a, "FILE%20PLAYED")
}

// setPlaybackRead sets the variables switch_ivr_play_file leaves behind.
func (c *call) setPlaybackRead(samples, rate int64) {
	c.b.set("playback_last_offset_pos", "0")
	c.b.set("playback_seconds", strconv.FormatInt(samples/rate, 10))
	c.b.set("playback_ms", strconv.FormatInt(samples*1000/rate, 10))
	c.b.set("playback_samples", strconv.FormatInt(samples, 10))
}
