package fakefs

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pagd is a running play_and_get_digits, driven by timers and key presses on the
// engine goroutine. It mirrors switch_play_and_get_digits: per try the prompt plays
// (a key cuts it short), then the timeout runs; no input or input not matching the
// regexp plays the invalid file and starts the next try.
type pagd struct {
	a                     *app
	min, max, tries       int
	timeout, digitTimeout time.Duration
	terms, varName        string
	promptDur, invalidDur time.Duration
	prompt                string
	re                    *regexp.Regexp
	try                   int
	phase                 int
	phaseStart            time.Time
	gen                   int // bumps on every phase change; stale timers check it
	buf                   string
}

const (
	phasePrompt = iota
	phaseWait
	phaseInvalid
)

// parsePagd reads `min max tries timeout terminators file invalid_file [var [regexp
// [digit_timeout]]]`.
func (c *call) parsePagd(a *app) (*pagd, bool) {
	f := strings.Fields(a.arg)
	if len(f) < 7 {
		return nil, false
	}
	n := func(i int) int { v, _ := strconv.Atoi(f[i]); return v }
	p := &pagd{a: a, min: n(0), max: n(1), tries: n(2), timeout: time.Duration(n(3)) * time.Millisecond,
		terms: f[4], prompt: f[5], promptDur: c.s.mediaDuration(f[5]), invalidDur: c.s.mediaDuration(f[6])}
	if p.max < 1 {
		p.max = 1
	}
	if p.tries < 1 {
		p.tries = 1
	}
	if len(f) > 7 {
		p.varName = f[7]
	}
	if len(f) > 8 {
		re, err := regexp.Compile(f[8])
		if err != nil {
			return nil, false
		}
		p.re = re
	}
	p.digitTimeout = p.timeout
	if len(f) > 9 {
		p.digitTimeout = time.Duration(n(9)) * time.Millisecond
	}
	return p, true
}

func (c *call) startPagd(a *app) {
	c.start(a)
	p, ok := c.parsePagd(a)
	if !ok {
		c.s.log.Warn("play_and_get_digits: bad arguments", "uuid", c.b.uuid, "arg", a.arg)
		c.complete(a, "_none_")
		return
	}
	a.pagd = p
	if p.varName != "" && p.re != nil {
		c.b.del(p.varName + "_invalid")
	}
	a.onHangup = func(now time.Time) string {
		if p.phase != phaseWait {
			c.setPlayback(now.Sub(p.phaseStart))
		}
		return "_none_"
	}
	p.startTry(c)
}

func (p *pagd) enter(c *call, phase int, d time.Duration, fn func()) {
	p.phase, p.phaseStart = phase, time.Now()
	p.gen++
	gen := p.gen
	c.after(d, func() {
		if c.cur == p.a && p.gen == gen && !c.hungUp {
			fn()
		}
	})
}

func (p *pagd) startTry(c *call) {
	p.try++
	p.buf = ""
	c.b.del("read_result") // switch_ivr_read starts every try afresh
	if p.varName != "" {
		c.b.del(p.varName)
	}
	p.enter(c, phasePrompt, p.promptDur, func() {
		c.setPlayback(p.promptDur)
		p.enter(c, phaseWait, p.timeout, func() { p.endInput(c) })
	})
	if !strings.HasPrefix(p.prompt, "silence_stream://") {
		c.prompts++
		c.fire(AtPrompt, c.prompts)
	} else {
		c.fire(AtNoticeHeard, 1)
	}
	c.takeDTMF() // keys pressed during the invalid file waited in the queue
}

// readsDTMF: the invalid file is played without input arguments, so keys wait in the queue.
func (p *pagd) readsDTMF() bool { return p.phase != phaseInvalid }

func (p *pagd) digit(c *call, d string) {
	if p.phase == phasePrompt {
		c.setPlayback(time.Since(p.phaseStart))
	}
	if strings.Contains(p.terms, d) {
		p.endInput(c)
		return
	}
	p.buf += d
	if len(p.buf) >= p.max {
		p.endInput(c)
		return
	}
	p.enter(c, phaseWait, p.digitTimeout, func() { p.endInput(c) })
}

// endInput evaluates one try, setting the variables as switch_ivr_read and
// switch_play_and_get_digits do: read_result, then <var>; a key the regexp refuses moves
// from <var> to <var>_invalid, and read_result stays "success" (m-wrong-key-then-consent).
func (p *pagd) endInput(c *call) {
	p.gen++
	if p.buf == "" {
		c.b.set("read_result", "failure")
	} else {
		c.b.set("read_result", "success")
		if p.varName != "" {
			c.b.set(p.varName, p.buf)
		}
		if len(p.buf) >= p.min && (p.re == nil || p.re.MatchString(p.buf)) {
			c.res.DigitAccepted = time.Now()
			c.complete(p.a, "_none_")
			return
		}
		if p.varName != "" {
			c.b.del(p.varName)
			c.b.set(p.varName+"_invalid", p.buf)
		}
	}
	p.enter(c, phaseInvalid, p.invalidDur, func() {
		c.setPlayback(p.invalidDur)
		if p.try < p.tries {
			p.startTry(c)
			return
		}
		c.complete(p.a, "_none_")
	})
}
