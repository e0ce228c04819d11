package main

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/callconsent/callconsent/esl"
)

// Bounds on the calls the daemon takes on (issue 8): any local account can connect to the
// outbound port, so calls at once, and each call's life, are bounded.

// DefaultMaxCallDuration is max-call-duration's default: far longer than a customer-service
// call, short enough that a call no one ever hangs up does not hold its resources for days.
const DefaultMaxCallDuration = 4 * time.Hour

// Bounds of max-call-duration: time for the notice and a conversation, and at most a day.
const (
	minMaxCallDuration = 10 * time.Minute
	maxMaxCallDuration = 24 * time.Hour
)

// maxMaxCalls is more calls than any open-file limit allows; max-calls auto stays below it too.
const maxMaxCalls = 1_000_000

// fdReserve is how many open files callconsent keeps for everything but calls: the database
// (six SQLite connections with their -wal and -shm files), the control connection to
// FreeSWITCH, the control socket and the command-line tools on it, logs, the sweep's walk of
// the recordings folder and the notices. Calls being turned away over max-calls take at most
// esl.OverflowSlots more.
const fdReserve = 128

// keptFiles is what the open-file limit must leave besides max-calls.
const keptFiles = fdReserve + esl.OverflowSlots

// maxCallsSetting is max-calls: a whole number, or auto (0).
var maxCallsSetting = setting{
	key: "max-calls", typ: "n|auto",
	usage: "calls handled at once; beyond it a call goes to the employee at once, unrecorded (auto: the open-file limit less " + strconv.Itoa(keptFiles) + ")",
	get: func(c *Config) string {
		if c.MaxCalls == 0 {
			return "auto"
		}
		return strconv.Itoa(c.MaxCalls)
	},
	set: func(c *Config, v string) error {
		if v == "auto" {
			c.MaxCalls = 0
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("is not a positive whole number or auto")
		}
		c.MaxCalls = n
		return nil
	},
}

// maxCallDurationSetting is max-call-duration, a duration in hours or minutes.
var maxCallDurationSetting = setting{
	key: "max-call-duration", typ: "duration",
	usage: "ceiling of a call's life: a call still up then is let go of, its recording stopped (10m..24h)",
	get:   func(c *Config) string { return fmtDuration(c.MaxCallDuration) },
	set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("is not a duration (use hours or minutes, e.g. 4h or 90m)")
		}
		c.MaxCallDuration = d
		return nil
	},
}

// validateCallLimits checks max-calls and max-call-duration by themselves; run checks max-calls
// against the open-file limit (callLimit) and max-call-duration against the notices.
func (c *Config) validateCallLimits() error {
	switch {
	case c.MaxCalls < 0 || c.MaxCalls > maxMaxCalls:
		return invalidKey("max-calls", strconv.Itoa(c.MaxCalls), "must be 1.."+strconv.Itoa(maxMaxCalls)+" or auto")
	case c.MaxCallDuration < minMaxCallDuration || c.MaxCallDuration > maxMaxCallDuration:
		return invalidKey("max-call-duration", fmtDuration(c.MaxCallDuration), "must be between 10m and 24h: "+
			"long enough for the notice and the conversation, and no call holds the daemon's resources longer than a day")
	}
	return nil
}

// CheckMaxCallDuration refuses a max-call-duration shorter than asking for consent can take
// (every try of the longest notice and its digit-timeout): every such call would be cut off
// before its choice. It needs the notices' lengths, known once they are read.
func (c *Config) CheckMaxCallDuration() error {
	var longest time.Duration
	for _, n := range c.Notices {
		longest = max(longest, n.Duration)
	}
	if ask := time.Duration(c.Tries) * (longest + c.DigitTimeout); c.MaxCallDuration <= ask {
		return invalidKey("max-call-duration", fmtDuration(c.MaxCallDuration), fmt.Sprintf("is not longer than asking for consent can take "+
			"(%d tries of the %s notice and the %s digit-timeout: %s): raise it", c.Tries, longest.Round(100*time.Millisecond),
			fmtDuration(c.DigitTimeout), fmtDuration(ask.Round(time.Second))))
	}
	return nil
}

// openFileLimit raises the soft limit on open files to the hard limit, as far as it may, and
// returns the limit in force. Go raises it at start already (to one less than the hard limit);
// under a seccomp filter without setrlimit (systemd's SystemCallFilter=~@resources) neither
// can, and the limit the service manager set (LimitNOFILE) stays: raised is then an error
// that says so.
func openFileLimit() (limit uint64, raised error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return lim.Cur, fmt.Errorf("raise the open-file limit from %d to %d: %w", lim.Cur, lim.Max, err)
		}
		lim = want
	}
	return lim.Cur, nil
}

// callLimit is the max-calls in force under an open-file limit: the configured number, or for
// auto the limit less keptFiles. A number the limit cannot hold is refused, naming both and what
// to change: calls beyond the open files would cost the control connection and the command
// line their sockets.
func (c *Config) callLimit(openFiles uint64) (int, error) {
	room := int64(min(openFiles, maxMaxCalls+keptFiles)) - keptFiles
	if room < 1 {
		return 0, invalidKey("max-calls", maxCallsSetting.get(c), fmt.Sprintf("leaves no room for calls: the open-file limit is %d and callconsent "+
			"keeps %d open files for the database, the control connection and the command line; raise LimitNOFILE "+
			"in the systemd unit (or ulimit -n) to at least %d", openFiles, keptFiles, keptFiles+64))
	}
	if c.MaxCalls == 0 {
		return int(room), nil
	}
	if int64(c.MaxCalls) > room {
		return 0, invalidKey("max-calls", strconv.Itoa(c.MaxCalls), fmt.Sprintf("needs %d open files, but the open-file limit is %d: "+
			"raise LimitNOFILE in the systemd unit (or ulimit -n), or lower max-calls to at most %d", c.MaxCalls+keptFiles, openFiles, room))
	}
	return c.MaxCalls, nil
}

// maxCalls is the call limit run applies: the open-file limit is raised first, as far as it
// may be (a limit that cannot be raised is logged, and the limit in force used).
func (d *daemon) maxCalls() (int, error) {
	limit, raiseErr := openFileLimit()
	if limit == 0 {
		return 0, raiseErr
	}
	if raiseErr != nil {
		d.log.Warn("open-file limit not raised; set LimitNOFILE in the systemd unit", "err", raiseErr, "open_files", limit)
	}
	n, err := d.cfg.callLimit(limit)
	if err == nil {
		d.log.Info("call limit", "max_calls", n, "open_files", limit, "kept_for_other_files", keptFiles)
	}
	return n, err
}

// callLimitCheck is config check's line on max-calls, under this process's open-file limit
// (run under systemd gets LimitNOFILE instead).
func callLimitCheck(cfg *Config) check {
	name := "max-calls " + maxCallsSetting.get(cfg)
	limit, raiseErr := openFileLimit()
	if limit == 0 {
		return check{name: name, err: raiseErr}
	}
	n, err := cfg.callLimit(limit)
	if err != nil {
		return check{name: name, err: err}
	}
	if err := cfg.CheckMaxCallDuration(); err != nil {
		return check{name: name, err: err}
	}
	return check{name: name, info: fmt.Sprintf("%d calls at once under this shell's open-file limit of %d; "+
		"beyond them a call goes to the employee unrecorded; max-call-duration %s", n, limit, fmtDuration(cfg.MaxCallDuration))}
}
