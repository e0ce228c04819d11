package main

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"
)

// setting is one configuration key. The same parser serves the YAML file and the flag of the
// same name, so a value means the same thing wherever it is written.
type setting struct {
	key   string
	usage string
	typ   string                          // placeholder shown in --help
	get   func(c *Config) string          // current value as text (defaults in --help)
	set   func(c *Config, v string) error // parse one value; errors say what is wrong with v
	multi bool                            // repeatable flag; a YAML mapping (notice only)
	// setList, for list keys, takes the items of a YAML sequence; the flag form is one
	// comma-separated value given to set.
	setList func(c *Config, items []string) error
}

// settings lists every key in the order of the README's configuration reference.
var settings = []setting{
	pathSetting("db", "SQLite database `file`", func(c *Config) *string { return &c.DB }),
	pathSetting("key-file", "pseudonymisation key `file` (created with mode 0600 only for a new database)", func(c *Config) *string { return &c.KeyFile }),
	pathSetting("audit-key-file", "audit log HMAC key `file` (created with mode 0600 with the store)", func(c *Config) *string { return &c.AuditKeyFile }),
	durationSetting("audit-retention", "h", "keep audit log entries this long (at least retention; default 3 years)", func(c *Config) *time.Duration { return &c.AuditRetention }),
	durationSetting("session-idle-timeout", "m", "a web console session unused this long ends", func(c *Config) *time.Duration { return &c.SessionIdle }),
	durationSetting("session-max-age", "h", "a web console session this old ends, used or not", func(c *Config) *time.Duration { return &c.SessionMaxAge }),
	pathSetting("recordings-dir", "`folder` where FreeSWITCH writes the recordings", func(c *Config) *string { return &c.RecordingsDir }),
	durationSetting("retention", "h", "delete recordings older than this (at most 2160h, policy §7)", func(c *Config) *time.Duration { return &c.Retention }),
	stringSetting("esl-listen", "host:port", "listen address for FreeSWITCH's outbound socket", func(c *Config) *string { return &c.ESLListen }),
	stringSetting("freeswitch", "host:port", "FreeSWITCH inbound ESL address (control connection)", func(c *Config) *string { return &c.FreeSWITCH }),
	pathSetting("esl-password-file", "`file` holding the ESL password (never printed)", func(c *Config) *string { return &c.ESLPasswordFile }),
	boolSetting("allow-remote-esl", "allow esl-listen and freeswitch off loopback (plain-text ESL: the password crosses the network)", func(c *Config) *bool { return &c.AllowRemoteESL }),
	boolSetting("freeswitch-owner-check", "send the ESL password only if FreeSWITCH's port belongs to root, this account or freeswitch-users (Linux)", func(c *Config) *bool { return &c.ESLOwnerCheck }),
	{
		key: "freeswitch-users", typ: "list", usage: "accounts that may own FreeSWITCH's ESL port besides root and this one, comma-separated",
		get: func(c *Config) string { return strings.Join(c.FreeSWITCHUsers, ",") },
		set: func(c *Config, v string) error {
			c.FreeSWITCHUsers = []string{} // "" is the empty list: root and this account only
			for _, u := range strings.Split(v, ",") {
				if u = strings.TrimSpace(u); u != "" {
					c.FreeSWITCHUsers = append(c.FreeSWITCHUsers, u)
				}
			}
			return nil
		},
		setList: func(c *Config, items []string) error { c.FreeSWITCHUsers = items; return nil },
	},
	stringSetting("language", "lang", "notice language used when the dialplan names none", func(c *Config) *string { return &c.Language }),
	pathSetting("notices-dir", "`folder` that relative notice file names are resolved against", func(c *Config) *string { return &c.NoticesDir }),
	{
		key: "notice", typ: "lang=version:file[:invalid-file]", multi: true,
		usage: "consent notice of a language (repeatable; replaces the notices of the file)",
		get:   func(c *Config) string { return formatNotices(c.Notices) },
		set: func(c *Config, v string) error {
			n, err := parseNoticeFlag(v)
			if err == nil {
				c.Notices[n.Lang] = n
			}
			return err
		},
	},
	{
		key: "tries", typ: "n", usage: "prompts before the call counts as no input (1..9)",
		get: func(c *Config) string { return strconv.Itoa(c.Tries) },
		set: func(c *Config, v string) (err error) {
			if c.Tries, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("is not a whole number")
			}
			return nil
		},
	},
	durationSetting("min-notice", "s", "how much of the notice a caller hears before a key counts (at most the notice's length)", func(c *Config) *time.Duration { return &c.MinNotice }),
	durationSetting("digit-timeout", "s", "wait this long for a key after each prompt (100ms..60s)", func(c *Config) *time.Duration { return &c.DigitTimeout }),
	stringSetting("transfer", "target", "transfer target for every call, as for FreeSWITCH's transfer app", func(c *Config) *string { return &c.Transfer }),
	{
		key: "purposes", typ: "list", usage: "allowed purposes of recordings, comma-separated (R-PURPOSE-1)",
		get: func(c *Config) string { return strings.Join(c.Purposes, ",") },
		set: func(c *Config, v string) error {
			c.Purposes = nil
			for _, p := range strings.Split(v, ",") {
				c.Purposes = append(c.Purposes, strings.TrimSpace(p))
			}
			return nil
		},
		setList: func(c *Config, items []string) error { c.Purposes = items; return nil },
	},
	stringSetting("sweep-schedule", "cron", "cron schedule of the retention sweep", func(c *Config) *string { return &c.SweepSchedule }),
	durationSetting("orphan-grace", "h", "delete audio files without a database row after this age", func(c *Config) *time.Duration { return &c.OrphanGrace }),
	{
		key: "max-delete-share", typ: "fraction", usage: "a sweep refuses to delete more than this share of all recordings (0..1]",
		get: func(c *Config) string { return fmtFloat(c.MaxDeleteShare) },
		set: func(c *Config, v string) (err error) {
			if c.MaxDeleteShare, err = strconv.ParseFloat(v, 64); err != nil {
				return fmt.Errorf("is not a number")
			}
			return nil
		},
	},
	maxCallsSetting,
	maxCallDurationSetting,
	pathSetting("control-socket", "unix socket `path` of the running daemon", func(c *Config) *string { return &c.ControlSocket }),
	{
		key: "log-level", typ: "level", usage: "log level: debug, info, warn or error",
		get: func(c *Config) string { return levelName(c.LogLevel) },
		set: func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("is not a log level (debug, info, warn, error)")
			}
			return nil
		},
	},
	{
		key: "log-format", typ: "format", usage: "log format: text (key=value) or json (one object a line, for journald or Loki)",
		get: func(c *Config) string { return c.LogFormat },
		set: func(c *Config, v string) error {
			if v != LogFormatText && v != LogFormatJSON {
				return fmt.Errorf("is not a log format (text, json)")
			}
			c.LogFormat = v
			return nil
		},
	},
	stringSetting("metrics-listen", "host:port", "listen address of /metrics, /healthz and /readyz (loopback unless allow-remote-metrics; \"\" turns it off)", func(c *Config) *string { return &c.MetricsListen }),
	boolSetting("allow-remote-metrics", "allow metrics-listen off loopback (no authentication: anyone who reaches the port reads it)", func(c *Config) *bool { return &c.AllowRemoteMetrics }),
}

// lookupSetting returns the setting of a key, nil for an unknown key.
func lookupSetting(key string) *setting {
	for i := range settings {
		if settings[i].key == key {
			return &settings[i]
		}
	}
	return nil
}

func stringSetting(key, typ, usage string, field func(*Config) *string) setting {
	return setting{key: key, typ: typ, usage: usage,
		get: func(c *Config) string { return *field(c) },
		set: func(c *Config, v string) error { *field(c) = v; return nil },
	}
}

// pathSetting is a string setting whose placeholder comes from backquotes in the usage text.
func pathSetting(key, usage string, field func(*Config) *string) setting {
	s := stringSetting(key, "", usage, field)
	if i, j := strings.Index(usage, "`"), strings.LastIndex(usage, "`"); i >= 0 && j > i {
		s.typ, s.usage = usage[i+1:j], usage[:i]+usage[i+1:j]+usage[j+1:]
	}
	return s
}

// boolSetting is a true/false key. Only the words true and false are taken, so that a YAML
// "yes" or a typo is an error, not a guess. Like every key's flag, its flag takes the value
// (--allow-remote-esl true): a bare --x false would leave "false" behind as an argument.
func boolSetting(key, usage string, field func(*Config) *bool) setting {
	return setting{key: key, typ: "true|false", usage: usage,
		get: func(c *Config) string { return strconv.FormatBool(*field(c)) },
		set: func(c *Config, v string) error {
			switch v {
			case "true":
				*field(c) = true
			case "false":
				*field(c) = false
			default:
				return fmt.Errorf("is not true or false")
			}
			return nil
		},
	}
}

// durationSetting is a duration key; unit is the unit its values are usually written in (s for
// seconds, h for hours), used in the example of its error message.
func durationSetting(key, unit, usage string, field func(*Config) *time.Duration) setting {
	return setting{key: key, typ: "duration", usage: usage,
		get: func(c *Config) string { return fmtDuration(*field(c)) },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return errors.New(durationProblem(v, unit))
			}
			*field(c) = d
			return nil
		},
	}
}

// durationProblem says why v is not a Go duration, with an example in the key's usual unit:
// a bare number lacks a unit (5 → 5s), days have no unit (90d → 2160h).
func durationProblem(v, unit string) string {
	v = strings.TrimSpace(v)
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return fmt.Sprintf("is not a duration: it needs a unit, e.g. %s%s (h, m, s or ms)", v, unit)
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil {
			return fmt.Sprintf("is not a duration: there is no unit for days; use hours, e.g. %sh", fmtFloat(n*24))
		}
	}
	example := "5s"
	if unit == "h" {
		example = "2160h"
	}
	return fmt.Sprintf("is not a duration (a number and a unit: h, m, s or ms, e.g. %s)", example)
}

// parseNoticeFlag parses lang=version:file[:invalid-file], the flag form of one notice entry.
func parseNoticeFlag(v string) (Notice, error) {
	lang, rest, ok := strings.Cut(v, "=")
	parts := strings.Split(rest, ":")
	if !ok || len(parts) < 2 || len(parts) > 3 {
		return Notice{}, fmt.Errorf("is not lang=version:file[:invalid-file]")
	}
	n := Notice{Lang: lang, Version: parts[0], File: parts[1]}
	if len(parts) == 3 {
		n.InvalidFile = parts[2]
	}
	return n, nil
}

// formatNotices prints notices in flag form, sorted by language for a stable --help.
func formatNotices(m map[string]Notice) string {
	var out []string
	for _, n := range m {
		s := n.Lang + "=" + n.Version + ":" + n.File
		if n.InvalidFile != "" {
			s += ":" + n.InvalidFile
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// levelName is the text form of a log level as written in the configuration.
func levelName(l slog.Level) string { return strings.ToLower(l.String()) }
