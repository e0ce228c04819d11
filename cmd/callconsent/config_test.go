package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/spf13/pflag"
)

// testFlags returns the root command's persistent flags parsed from args, as cobra would.
func testFlags(t testing.TB, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	(&globalOptions{}).AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse flags %v: %v", args, err)
	}
	return fs
}

func configFile(name string) string { return filepath.Join("..", "..", "testdata", "config", name) }

func TestLoadConfig_Defaults(t *testing.T) {
	t.Run("MissingDefaultFile", func(t *testing.T) {
		cfg, err := LoadConfig(filepath.Join(t.TempDir(), "absent.yaml"), false, testFlags(t))
		if err != nil {
			t.Fatal(err)
		}
		want := DefaultConfig()
		if cfg.Source != "" || cfg.DB != want.DB || cfg.Retention != 2160*time.Hour || cfg.Tries != 3 ||
			cfg.DigitTimeout != 5*time.Second || cfg.MaxDeleteShare != 0.5 || cfg.Transfer != "6000 XML default" ||
			!reflect.DeepEqual(cfg.Purposes, []string{"training", "quality-assurance"}) ||
			cfg.Notices["nb"].File != "/usr/share/callconsent/notices/notice-nb.wav" {
			t.Fatalf("defaults not applied: %+v", cfg)
		}
	})
	t.Run("SampleFileEqualsDefaults", func(t *testing.T) {
		// The sample documents the defaults; it must not drift from them.
		cfg, err := LoadConfig(configFile("callconsent.yaml"), true, nil)
		if err != nil {
			t.Fatal(err)
		}
		def, err := LoadConfig("", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		def.Source = cfg.Source
		if !reflect.DeepEqual(cfg, def) {
			t.Fatalf("sample differs from defaults:\n got %+v\nwant %+v", cfg, def)
		}
	})
	t.Run("ShippedExampleLoads", func(t *testing.T) {
		// scripts/install.sh installs this file as /etc/callconsent/callconsent.yaml.
		cfg, err := LoadConfig(filepath.Join("..", "..", "scripts", "callconsent.example.yaml"), true, nil)
		if err != nil {
			t.Fatal(err)
		}
		def, _ := LoadConfig("", false, nil)
		def.Source = cfg.Source
		if !reflect.DeepEqual(cfg, def) {
			t.Errorf("example differs from the defaults:\n got %+v\nwant %+v", cfg, def)
		}
	})
	t.Run("ErrMissingExplicitFile", func(t *testing.T) {
		_, err := LoadConfig(filepath.Join(t.TempDir(), "absent.yaml"), true, nil)
		if consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), "absent.yaml") {
			t.Fatalf("err = %v, want EINVALID naming the file", err)
		}
	})
	t.Run("EmptyFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "empty.yaml")
		os.WriteFile(path, []byte("# nothing\n"), 0o600)
		if cfg, err := LoadConfig(path, true, nil); err != nil || cfg.Tries != 3 {
			t.Fatalf("cfg=%+v err=%v", cfg, err)
		}
	})
}

func TestLoadConfig_Precedence(t *testing.T) {
	// override.yaml sets retention 720h, tries 5, transfer, purposes, language en, log-level debug.
	cfg, err := LoadConfig(configFile("override.yaml"), true, testFlags(t, "--tries", "7", "--purposes", "training,quality-assurance,x-y"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tries != 7 {
		t.Errorf("tries = %d, want 7 from the flag", cfg.Tries)
	}
	if !reflect.DeepEqual(cfg.Purposes, []string{"training", "quality-assurance", "x-y"}) {
		t.Errorf("purposes = %v, want the flag's", cfg.Purposes)
	}
	if cfg.Retention != 720*time.Hour || cfg.Transfer != "7000 XML support" || cfg.Language != "en" || cfg.LogLevel.String() != "DEBUG" {
		t.Errorf("file values not applied: %+v", cfg)
	}
	if cfg.DigitTimeout != 5*time.Second || cfg.SweepSchedule != "@every 15m" {
		t.Errorf("defaults not kept for keys set nowhere: %+v", cfg)
	}
	if len(cfg.Notices) != 1 || cfg.Notices["en"].File != "/srv/notices/en.wav" || cfg.Notices["en"].Version != "2027-01-01.1" {
		t.Errorf("the file's notice map must replace the defaults: %+v", cfg.Notices)
	}
	if cfg.Notices["en"].Err == nil {
		t.Errorf("a missing notice file must be recorded in Notice.Err")
	}
	if err := cfg.CheckNotices(); consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), "/srv/notices/en.wav") {
		t.Errorf("CheckNotices = %v, want EINVALID naming the file", err)
	}

	t.Run("NoticeFlag", func(t *testing.T) {
		cfg, err := LoadConfig("", false, testFlags(t, "--notice", "de=3:/a/de.wav:/a/de-invalid.wav", "--notice", "nb=2:nb.wav", "--language", "de"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]Notice{
			"de": {Lang: "de", Version: "3", File: "/a/de.wav", InvalidFile: "/a/de-invalid.wav"},
			"nb": {Lang: "nb", Version: "2", File: "/usr/share/callconsent/notices/nb.wav"},
		}
		for lang, n := range cfg.Notices {
			n.Err = nil
			if n != want[lang] {
				t.Errorf("notice %s = %+v, want %+v", lang, n, want[lang])
			}
		}
		if len(cfg.Notices) != 2 {
			t.Errorf("notices = %v", cfg.Notices)
		}
	})
}

func TestLoadConfig_DataDir(t *testing.T) {
	dir := t.TempDir()
	cfg, err := LoadConfig(configFile("absent.yaml"), false, testFlags(t, "--data-dir", dir, "--db", "/x/other.db"))
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{
		"pseudonym.key": cfg.KeyFile, "recordings": cfg.RecordingsDir, "notices": cfg.NoticesDir,
		"control.sock": cfg.ControlSocket, "esl-password": cfg.ESLPasswordFile, filepath.Join("notices", "notice-nb.wav"): cfg.Notices["nb"].File,
	} {
		if want := filepath.Join(dir, name); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	if cfg.DB != "/x/other.db" {
		t.Errorf("db = %s: an explicit value must win over --data-dir", cfg.DB)
	}
	if cfg.DataDir != dir {
		t.Errorf("DataDir = %q", cfg.DataDir)
	}

	t.Run("FileValueWins", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(path, []byte("recordings-dir: /srv/rec\n"), 0o600)
		cfg, err := LoadConfig(path, true, testFlags(t, "--data-dir", dir))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.RecordingsDir != "/srv/rec" || cfg.DB != filepath.Join(dir, "callconsent.db") {
			t.Fatalf("recordings-dir=%s db=%s", cfg.RecordingsDir, cfg.DB)
		}
	})
}

// TestLoadConfig_Bad loads each bad file in testdata/config and checks that the error is a
// usage error (exit 2) that names the key and the value as written.
func TestLoadConfig_Bad(t *testing.T) {
	for file, want := range map[string][]string{
		"bad-retention-days.yaml":                {`config: retention: "90d" is not a duration: there is no unit for days; use hours, e.g. 2160h`},
		"bad-retention-long.yaml":                {"retention", `"2200h"`, "§7"},
		"bad-retention-zero.yaml":                {"retention", `"0s"`, "positive"},
		"bad-tries-high.yaml":                    {"tries", `"10"`, "1..9"},
		"bad-tries-word.yaml":                    {"tries", `"three"`},
		"bad-digit-timeout.yaml":                 {"digit-timeout", `"50ms"`},
		"bad-esl-listen.yaml":                    {"esl-listen", `"localhost"`},
		"bad-esl-listen-remote.yaml":             {`config: esl-listen: "0.0.0.0:8084" is not a loopback address`, "pose as FreeSWITCH", "allow-remote-esl: true"},
		"bad-freeswitch-remote.yaml":             {`config: freeswitch: "pbx.example.com:8021" is not a loopback address`, "password crosses the network", "allow-remote-esl: true"},
		"bad-allow-remote-esl.yaml":              {`config: allow-remote-esl: "yes" is not true or false`},
		"bad-freeswitch-owner-check-remote.yaml": {`config: freeswitch-owner-check: "true" cannot see who owns the port of a FreeSWITCH on another host (freeswitch 10.0.0.5:8021): set freeswitch-owner-check: false`},
		"bad-freeswitch-owner-check.yaml":        {`config: freeswitch-owner-check: "off" is not true or false`},
		"bad-freeswitch-users-scalar.yaml":       {`config: freeswitch-users: "freeswitch" must be a YAML list, e.g. [freeswitch]`},
		"bad-freeswitch-users-name.yaml":         {`config: freeswitch-users: "free switch" is not a user name or numeric uid`},
		"bad-freeswitch-port.yaml":               {"freeswitch", `"127.0.0.1:0"`},
		"bad-transfer-newline.yaml":              {"transfer", "single line"},
		"bad-transfer-empty.yaml":                {"transfer", `""`},
		"bad-purposes-empty.yaml":                {"purposes", "at least one"},
		"bad-purposes-case.yaml":                 {"purposes", `"Marketing"`},
		"bad-purposes-scalar.yaml":               {"purposes", `"training"`, "list"},
		"bad-purposes-twice.yaml":                {"purposes", `"training"`, "twice"},
		"bad-sweep-schedule.yaml":                {"sweep-schedule", `"every 15 minutes"`},
		"bad-max-delete-share.yaml":              {"max-delete-share", `"1.5"`},
		"bad-max-delete-share-word.yaml":         {"max-delete-share", `"half"`},
		"bad-orphan-grace.yaml":                  {"orphan-grace", `"-1h"`},
		"bad-log-level.yaml":                     {"log-level", `"loud"`},
		"bad-log-format.yaml":                    {`config: log-format: "logfmt" is not a log format (text, json)`},
		"bad-metrics-listen.yaml":                {`config: metrics-listen: "9464" is not host:port (e.g. 127.0.0.1:9464; "" turns the listener off)`},
		"bad-metrics-listen-remote.yaml":         {`config: metrics-listen: "0.0.0.0:9464" is not a loopback address`, "without authentication", "allow-remote-metrics: true"},
		"bad-allow-remote-metrics.yaml":          {`config: allow-remote-metrics: "on" is not true or false`},
		"bad-language.yaml":                      {"language", `"de"`},
		"bad-db-empty.yaml":                      {"db", "empty"},
		"bad-null-value.yaml":                    {"retention", "no value"},
		"bad-unknown-key.yaml":                   {`unknown key "retension"`, "line 1"},
		"bad-notice-no-version.yaml":             {"notice.nb.version"},
		"bad-notice-unknown-field.yaml":          {`unknown key "text"`, "notice.nb"},
		"bad-notice-lang.yaml":                   {"notice", `"Norsk"`},
		"bad-duplicate-key.yaml":                 {`"tries"`, "twice", "line 2"},
		"bad-yaml-syntax.yaml":                   {"not valid YAML"},
		"bad-top-level-list.yaml":                {"key: value"},
		"bad-recordings-dir-space.yaml":          {`config: recordings-dir: "/home/x/My Trial/recordings" contains whitespace, which FreeSWITCH cannot take in an application argument`},
		// The notice file is checked as resolved against notices-dir, where the space is.
		"bad-notice-file-space.yaml":         {`config: notice.nb.file: "/srv/call notices/notice-nb.wav" contains whitespace`},
		"bad-notice-invalid-file-space.yaml": {`config: notice.nb.invalid-file: "/srv/notices/invalid\tnb.wav" contains whitespace`},
	} {
		t.Run(strings.TrimSuffix(file, ".yaml"), func(t *testing.T) {
			_, err := LoadConfig(configFile(file), true, nil)
			if consent.ErrorCode(err) != consent.EINVALID {
				t.Fatalf("err = %v, want an EINVALID error", err)
			}
			for _, w := range want {
				if msg := consent.ErrorMessage(err); !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestLoadConfig_BadFlag(t *testing.T) {
	for _, tc := range []struct{ args, want []string }{
		{[]string{"--retention", "90d"}, []string{`config: retention: "90d" is not a duration`}},
		{[]string{"--tries", "0"}, []string{"tries", `"0"`}},
		{[]string{"--notice", "nb:1:x.wav"}, []string{"notice", `"nb:1:x.wav"`}},
		{[]string{"--purposes", ""}, []string{"purposes", `""`}},
		{[]string{"--audit-retention", "720h"}, []string{`config: audit-retention: "720h" is shorter than retention (2160h)`}},
		{[]string{"--session-idle-timeout", "10s"}, []string{"session-idle-timeout", "between 1m and 24h"}},
		{[]string{"--session-max-age", "5m"}, []string{"session-max-age", "at least session-idle-timeout"}},
		{[]string{"--recordings-dir", "/srv/rec ordings"}, []string{`config: recordings-dir: "/srv/rec ordings" contains whitespace`}},
		{[]string{"--notice", "nb=1:/a/my notice.wav", "--language", "nb"}, []string{`config: notice.nb.file: "/a/my notice.wav" contains whitespace`}},
		{[]string{"--notice", "nb=1:/a/nb.wav:/a/in valid.wav", "--language", "nb"}, []string{`config: notice.nb.invalid-file: "/a/in valid.wav" contains whitespace`}},
		// --data-dir puts recordings-dir and notices-dir below it; the notice files inherit the space.
		{[]string{"--data-dir", "/home/x/My Trial"}, []string{`config: recordings-dir: "/home/x/My Trial/recordings" contains whitespace`}},
		{[]string{"--data-dir", "/home/x/My Trial", "--recordings-dir", "/srv/rec"}, []string{`config: notice.en.file: "/home/x/My Trial/notices/notice-en.wav" contains whitespace`}},
	} {
		_, err := LoadConfig("", false, testFlags(t, tc.args...))
		for _, w := range tc.want {
			if msg := consent.ErrorMessage(err); consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(msg, w) {
				t.Errorf("%v: error %v does not contain %q", tc.args, err, w)
			}
		}
	}
}

// TestLoadConfig_RelativePathInSpacedDir: a relative path is checked as FreeSWITCH gets it,
// absolute, so a working folder with a space in it is caught at load too.
func TestLoadConfig_RelativePathInSpacedDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "My Trial")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, tc := range []struct{ args, want []string }{
		{[]string{"--recordings-dir", "rec"}, []string{"config: recordings-dir: ", filepath.Join(dir, "rec"), "contains whitespace"}},
		{[]string{"--notices-dir", "notices"}, []string{"config: notice.en.file: ", filepath.Join(dir, "notices", "notice-en.wav"), "contains whitespace"}},
	} {
		_, err := LoadConfig("", false, testFlags(t, tc.args...))
		for _, w := range tc.want {
			if msg := consent.ErrorMessage(err); consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(msg, w) {
				t.Errorf("%v: error %v does not contain %q", tc.args, err, w)
			}
		}
	}
	// The same working folder is fine for absolute paths without whitespace.
	if _, err := LoadConfig("", false, testFlags(t, "--recordings-dir", "/srv/rec", "--notices-dir", "/srv/notices")); err != nil {
		t.Fatalf("absolute paths: %v", err)
	}
}

// TestLoadConfig_ESLAddrs: both ESL addresses stay on loopback unless allow-remote-esl is set.
// Before, run listened on [::] for "esl-listen: :8084" without a word.
func TestLoadConfig_ESLAddrs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" = accepted
	}{
		{[]string{"--esl-listen", "localhost:8084", "--freeswitch", "LOCALHOST:8021"}, ""},
		{[]string{"--esl-listen", "[::1]:8084", "--freeswitch", "127.0.0.2:8021"}, ""},
		{[]string{"--esl-listen", ":8084"}, `config: esl-listen: ":8084" is not a loopback address`},
		{[]string{"--esl-listen", "0.0.0.0:8084"}, `config: esl-listen: "0.0.0.0:8084" is not a loopback address`},
		{[]string{"--esl-listen", "[::]:8084"}, `config: esl-listen: "[::]:8084" is not a loopback address`},
		{[]string{"--esl-listen", "callconsent.local:8084"}, `config: esl-listen: "callconsent.local:8084" is not a loopback address`},
		{[]string{"--freeswitch", "192.0.2.7:8021"}, `config: freeswitch: "192.0.2.7:8021" is not a loopback address`},
		{[]string{"--freeswitch", "[::ffff:192.0.2.7]:8021"}, `config: freeswitch: "[::ffff:192.0.2.7]:8021" is not a loopback address`},
		{[]string{"--freeswitch", "[::]:8021"}, `config: freeswitch: "[::]:8021" is not a loopback address`},
		{[]string{"--freeswitch", "192.0.2.7:8021", "--allow-remote-esl=false"}, `is not a loopback address`},
		{[]string{"--esl-listen", "0.0.0.0:8084", "--freeswitch", "192.0.2.7:8021", "--allow-remote-esl", "true", "--freeswitch-owner-check", "false"}, ""},
		{[]string{"--esl-listen", ":8084", "--allow-remote-esl=true"}, ""},
		{[]string{"--allow-remote-esl=maybe"}, `config: allow-remote-esl: "maybe" is not true or false`},
	} {
		cfg, err := LoadConfig("", false, testFlags(t, tc.args...))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v, want accepted", tc.args, err)
		case tc.want != "" && (consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(consent.ErrorMessage(err), tc.want)):
			t.Errorf("%v: error %v, want EINVALID with %q", tc.args, err, tc.want)
		case tc.want == "" && strings.Contains(strings.Join(tc.args, " "), "--allow-remote-esl") && !cfg.AllowRemoteESL:
			t.Errorf("%v: allow-remote-esl not set", tc.args)
		}
	}

	t.Run("File", func(t *testing.T) {
		cfg, err := LoadConfig(configFile("remote-esl.yaml"), true, nil)
		if err != nil || !cfg.AllowRemoteESL || cfg.FreeSWITCH != "10.0.0.5:8021" {
			t.Fatalf("cfg %+v, err %v", cfg, err)
		}
		// config check says what it costs.
		c := eslAddrCheck(cfg)
		if c.err != nil || !strings.Contains(c.info, "esl-listen 10.0.0.4:8084 and freeswitch 10.0.0.5:8021 off loopback") ||
			!strings.Contains(c.info, "password crosses the network") {
			t.Errorf("config check line: %+v", c)
		}
	})
}
