package main

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callconsent/callconsent/consent"
	"github.com/robfig/cron/v3"
)

// DefaultConfigPath is where callconsent looks for its configuration file. A missing file at
// this path is fine (the defaults apply); a missing file named with --config is an error.
const DefaultConfigPath = "/etc/callconsent/callconsent.yaml"

// MaxRetention is the longest retention the policy allows (§7: recordings are kept 90 days).
const MaxRetention = 90 * 24 * time.Hour

// Config is callconsent's effective configuration: built-in defaults, overridden by the YAML
// file, overridden by command-line flags of the same name. Paths are absolute after LoadConfig,
// because FreeSWITCH resolves the notice and recording paths we hand it in its own working folder.
type Config struct {
	DB              string            // db: SQLite database file
	KeyFile         string            // key-file: pseudonymisation key, never in the database
	AuditKeyFile    string            // audit-key-file: the audit chain's HMAC key, never in the database
	AuditRetention  time.Duration     // audit-retention: audit entries older than this are pruned
	SessionIdle     time.Duration     // session-idle-timeout: a web session unused this long ends
	SessionMaxAge   time.Duration     // session-max-age: a web session this old ends
	RecordingsDir   string            // recordings-dir: where FreeSWITCH writes the audio
	Retention       time.Duration     // retention: audio older than this is deleted
	ESLListen       string            // esl-listen: host:port of our outbound-socket listener
	FreeSWITCH      string            // freeswitch: host:port of FreeSWITCH's inbound ESL
	ESLPasswordFile string            // esl-password-file: read with ESLPassword, never printed
	AllowRemoteESL  bool              // allow-remote-esl: esl-listen and freeswitch may be off loopback
	ESLOwnerCheck   bool              // freeswitch-owner-check: the password only to a port of an allowed account
	FreeSWITCHUsers []string          // freeswitch-users: allowed besides root and us (names or uids)
	Language        string            // language: notice played when the call names none
	NoticesDir      string            // notices-dir: base of relative notice file names
	Notices         map[string]Notice // notice: per language; see Notice
	Tries           int               // tries: prompts before the call counts as no-input
	MinNotice       time.Duration     // min-notice: notice heard before a key counts
	DigitTimeout    time.Duration     // digit-timeout: wait for a key after each prompt
	Transfer        string            // transfer: where every call goes, e.g. "6000 XML default"
	Purposes        []string          // purposes: the allowed purposes (R-PURPOSE-1)
	SweepSchedule   string            // sweep-schedule: cron spec of the retention sweep
	OrphanGrace     time.Duration     // orphan-grace: age before a file with no row is deleted
	MaxDeleteShare  float64           // max-delete-share: a sweep refuses to delete a larger share
	ControlSocket   string            // control-socket: unix socket of the running daemon
	LogLevel        slog.Level        // log-level: debug, info, warn or error
	LogFormat       string            // log-format: text or json (one JSON object a line)

	// MetricsListen is metrics-listen: host:port of /metrics, /healthz and /readyz; "" turns
	// the listener off. AllowRemoteMetrics (allow-remote-metrics) lets it leave loopback.
	MetricsListen      string
	AllowRemoteMetrics bool

	// WebListen is web-listen: host:port of the web console, "" off; WebCert and WebKey
	// (web-cert, web-key) its TLS files; TimeZone (time-zone) the zone it shows dates in.
	WebListen, WebCert, WebKey, TimeZone string

	// MaxCalls is max-calls: the calls handled at once; 0 (auto) sizes it from the open-file
	// limit (see callLimit). MaxCallDuration is max-call-duration: the ceiling of a call's life.
	MaxCalls        int
	MaxCallDuration time.Duration

	// DataDir is the --data-dir folder, "" when not given: a local trial, where run may create
	// what a production install must provide (the notices, an ESL password).
	DataDir string

	// Source is the configuration file that was read, "" when none was (defaults only).
	Source string
}

// Notice is one language's consent notice. Version and SHA256 go into every proof of consent
// (R-CONSENT-4), so the hash is taken from the very file FreeSWITCH will play.
type Notice struct {
	Lang        string
	File        string        // the notice audio
	InvalidFile string        // played after a wrong key; "" for silence
	Version     string        // version id of the notice text, e.g. 2026-11-26.1
	SHA256      string        // hex SHA-256 of File; "" when it could not be read (see Err)
	Duration    time.Duration // length of File's audio; 0 when it is not a readable WAV
	Err         error         // why File could not be hashed; commands that play it refuse to start
}

// DefaultConfig returns the built-in defaults. The notice versions match notices/notices.yaml,
// which ships with the audio; a test keeps the two in step.
func DefaultConfig() *Config {
	return &Config{
		DB:              "/var/lib/callconsent/callconsent.db",
		KeyFile:         "/var/lib/callconsent/pseudonym.key",
		AuditKeyFile:    "/var/lib/callconsent/audit.key",
		AuditRetention:  DefaultAuditRetention,
		SessionIdle:     15 * time.Minute,
		SessionMaxAge:   8 * time.Hour,
		RecordingsDir:   "/var/lib/freeswitch/recordings",
		Retention:       MaxRetention,
		ESLListen:       "127.0.0.1:8084",
		FreeSWITCH:      "127.0.0.1:8021",
		ESLPasswordFile: "/etc/callconsent/esl-password",
		ESLOwnerCheck:   true,
		FreeSWITCHUsers: []string{"freeswitch"},
		Language:        "nb",
		NoticesDir:      "/usr/share/callconsent/notices",
		Notices: map[string]Notice{
			"nb": {Lang: "nb", File: "notice-nb.wav", InvalidFile: "invalid-nb.wav", Version: "2026-11-26.1"},
			"en": {Lang: "en", File: "notice-en.wav", InvalidFile: "invalid-en.wav", Version: "2026-11-26.1"},
		},
		Tries:          3,
		MinNotice:      2 * time.Second,
		DigitTimeout:   5 * time.Second,
		Transfer:       "6000 XML default",
		Purposes:       []string{"training", "quality-assurance"},
		SweepSchedule:  "@every 15m",
		OrphanGrace:    24 * time.Hour,
		MaxDeleteShare: 0.5,
		ControlSocket:  "/run/callconsent/control.sock",
		LogLevel:       slog.LevelInfo,
		LogFormat:      LogFormatText,
		MetricsListen:  "127.0.0.1:9464",
		WebListen:      defaultWebListen,
		TimeZone:       defaultTimeZone,

		MaxCallDuration: DefaultMaxCallDuration,
	}
}

var (
	identRe = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	langRe  = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]+)*$`)
)

// Validate checks every value against its allowed range and returns the first problem as an
// EINVALID error naming the key and the value. LoadConfig calls it; a Config built in code
// (tests, simulate) should call it too.
func (c *Config) Validate() error {
	for _, p := range []struct{ key, val string }{
		{"db", c.DB}, {"key-file", c.KeyFile}, {"audit-key-file", c.AuditKeyFile}, {"recordings-dir", c.RecordingsDir},
		{"esl-password-file", c.ESLPasswordFile}, {"notices-dir", c.NoticesDir},
		{"control-socket", c.ControlSocket},
	} {
		if strings.TrimSpace(p.val) == "" {
			return invalidKey(p.key, p.val, "must not be empty")
		}
	}
	switch {
	case c.Retention <= 0:
		return invalidKey("retention", fmtDuration(c.Retention), "must be positive")
	case c.Retention > MaxRetention:
		return invalidKey("retention", fmtDuration(c.Retention), "exceeds 2160h: the policy (§7) keeps recordings at most 90 days")
	case c.Tries < 1 || c.Tries > 9:
		return invalidKey("tries", strconv.Itoa(c.Tries), "must be 1..9")
	case c.MinNotice <= 0:
		return invalidKey("min-notice", fmtDuration(c.MinNotice), "must be positive: a key pressed at answer would count before the caller heard anything")
	case c.DigitTimeout < 100*time.Millisecond || c.DigitTimeout > time.Minute:
		return invalidKey("digit-timeout", fmtDuration(c.DigitTimeout), "must be between 100ms and 60s")
	case strings.TrimSpace(c.Transfer) == "":
		return invalidKey("transfer", c.Transfer, "must not be empty")
	case strings.ContainsAny(c.Transfer, "\r\n"):
		// A newline would end the ESL command early and smuggle in another one.
		return invalidKey("transfer", c.Transfer, "must be a single line")
	case len(c.Transfer) > maxTransferLen:
		// It goes into every call's transfer command; FreeSWITCH's own targets are short.
		return invalidKey("transfer", c.Transfer, fmt.Sprintf("is %d bytes long: a transfer target (extension, dialplan, context) has at most %d", len(c.Transfer), maxTransferLen))
	case strings.IndexFunc(c.Transfer, unicode.IsControl) >= 0:
		return invalidKey("transfer", c.Transfer, "holds a control character: write the target as plain text, e.g. \"6000 XML default\"")
	case c.OrphanGrace <= 0:
		return invalidKey("orphan-grace", fmtDuration(c.OrphanGrace), "must be positive")
	case !(c.MaxDeleteShare > 0 && c.MaxDeleteShare <= 1):
		return invalidKey("max-delete-share", fmtFloat(c.MaxDeleteShare), "must be in (0,1]")
	}
	if err := c.validateCallLimits(); err != nil {
		return err
	}
	if err := validHostPort("esl-listen", c.ESLListen, 0); err != nil {
		return err
	}
	if err := validHostPort("freeswitch", c.FreeSWITCH, 1); err != nil {
		return err
	}
	if err := c.validateESLAddrs(); err != nil {
		return err
	}
	if err := c.validateObservability(); err != nil {
		return err
	}
	if err := c.validateWeb(); err != nil {
		return err
	}
	if _, err := cron.ParseStandard(c.SweepSchedule); err != nil {
		return invalidKey("sweep-schedule", c.SweepSchedule, "is not a cron schedule (e.g. \"@every 15m\" or \"*/15 * * * *\")")
	}
	if err := c.validatePurposes(); err != nil {
		return err
	}
	if err := c.validateAccess(); err != nil {
		return err
	}
	if err := c.validateNotices(); err != nil {
		return err
	}
	return c.validateAppArgPaths()
}

// validateAppArgPaths refuses whitespace in the paths we hand FreeSWITCH as application
// arguments (record_session, play_and_get_digits): it splits those on spaces, so every call
// would fail. The paths are checked as FreeSWITCH gets them, absolute and with the notice files
// resolved against notices-dir, because the working folder or --data-dir may hold the space.
func (c *Config) validateAppArgPaths() error {
	if err := noWhitespace("recordings-dir", resolvedPath(c.RecordingsDir)); err != nil {
		return err
	}
	for _, lang := range c.NoticeLangs() {
		n := c.Notices[lang]
		if err := noWhitespace("notice."+lang+".file", resolvedPath(c.noticePath(n.File))); err != nil {
			return err
		}
		if n.InvalidFile == "" {
			continue
		}
		if err := noWhitespace("notice."+lang+".invalid-file", resolvedPath(c.noticePath(n.InvalidFile))); err != nil {
			return err
		}
	}
	return nil
}

func noWhitespace(key, path string) error {
	if strings.IndexFunc(path, unicode.IsSpace) >= 0 {
		return invalidKey(key, path, "contains whitespace, which FreeSWITCH cannot take in an application argument")
	}
	return nil
}

// resolvedPath is p made absolute, as absPaths will make it; p itself if that fails.
func resolvedPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func (c *Config) validatePurposes() error {
	if len(c.Purposes) == 0 {
		return invalidKey("purposes", "", "must name at least one purpose")
	}
	seen := map[string]bool{}
	for _, p := range c.Purposes {
		if !identRe.MatchString(p) {
			return invalidKey("purposes", p, "is not a lowercase identifier (a-z, 0-9, -)")
		} else if seen[p] {
			return invalidKey("purposes", p, "is listed twice")
		}
		seen[p] = true
	}
	return nil
}

func (c *Config) validateNotices() error {
	if len(c.Notices) == 0 {
		return invalidKey("notice", "", "must define at least one language")
	}
	for lang, n := range c.Notices {
		key := "notice." + lang
		switch {
		case !langRe.MatchString(lang):
			return invalidKey("notice", lang, "is not a language code (e.g. nb, en)")
		case n.File == "":
			return invalidKey(key+".file", "", "must not be empty")
		case n.Version == "" || strings.ContainsAny(n.Version, " \t\r\n"):
			return invalidKey(key+".version", n.Version, "must be a non-empty id without spaces")
		}
	}
	if _, ok := c.Notices[c.Language]; !ok {
		return invalidKey("language", c.Language, "has no notice (add it under notice:)")
	}
	return nil
}

// validHostPort checks a host:port value; minPort is 0 where an ephemeral port makes sense.
func validHostPort(key, v string, minPort int) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return invalidKey(key, v, "is not host:port")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < minPort || n > 65535 {
		return invalidKey(key, v, fmt.Sprintf("has no valid port (%d..65535)", minPort))
	}
	return nil
}

// maxTransferLen bounds the transfer key, which goes into every call's transfer command.
const maxTransferLen = 256

// invalidKey is the one shape of configuration error, so an operator always learns which key
// and which value to fix: config: retention: "90d" is not a duration. A long value is cut
// short, so a mistake of megabytes gives one line, not megabytes.
func invalidKey(key, val, problem string) error {
	return consent.Errorf(consent.EINVALID, "config: %s: %s %s", key, quoteShort(val), problem)
}

// quoteShort quotes v, cut to its first 512 bytes (room for any sane path) and followed by
// "..." when longer.
func quoteShort(v string) string {
	const max = 512
	if len(v) <= max {
		return strconv.Quote(v)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "..."
}

// fmtDuration prints a duration without the zero minutes and seconds Go adds ("2160h").
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
