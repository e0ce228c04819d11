package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// TestCallLimitKeys: max-calls and max-call-duration from flags and files, and every bad value
// refused with one message naming the key, the value and what is allowed.
func TestCallLimitKeys(t *testing.T) {
	cfg, err := LoadConfig("", false, testFlags(t))
	if err != nil || cfg.MaxCalls != 0 || cfg.MaxCallDuration != 4*time.Hour {
		t.Fatalf("defaults: max-calls %d, max-call-duration %s, %v; want auto (0) and 4h", cfg.MaxCalls, cfg.MaxCallDuration, err)
	}
	cfg, err = LoadConfig("", false, testFlags(t, "--max-calls", "250", "--max-call-duration", "90m"))
	if err != nil || cfg.MaxCalls != 250 || cfg.MaxCallDuration != 90*time.Minute {
		t.Fatalf("flags: %d, %s, %v", cfg.MaxCalls, cfg.MaxCallDuration, err)
	}
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("max-calls: auto\nmax-call-duration: 8h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err = LoadConfig(file, true, nil); err != nil || cfg.MaxCalls != 0 || cfg.MaxCallDuration != 8*time.Hour {
		t.Fatalf("file: %d, %s, %v", cfg.MaxCalls, cfg.MaxCallDuration, err)
	}
	for _, tc := range []struct{ flag, val, msg string }{
		{"max-calls", "0", `config: max-calls: "0" is not a positive whole number or auto`},
		{"max-calls", "-1", `config: max-calls: "-1" is not a positive whole number or auto`},
		{"max-calls", "many", `config: max-calls: "many" is not a positive whole number or auto`},
		{"max-calls", "2000000", `config: max-calls: "2000000" must be 1..1000000 or auto`},
		{"max-call-duration", "5m", `config: max-call-duration: "5m" must be between 10m and 24h`},
		{"max-call-duration", "25h", `config: max-call-duration: "25h" must be between 10m and 24h`},
		{"max-call-duration", "4", `config: max-call-duration: "4" is not a duration`},
	} {
		_, err := LoadConfig("", false, testFlags(t, "--"+tc.flag, tc.val))
		if consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("--%s %s: %v, want %q", tc.flag, tc.val, err, tc.msg)
		}
	}
}

// TestCallLimit: auto leaves keptFiles of the open-file limit for everything but calls; a
// number the limit cannot hold, or a limit with no room for calls, is refused with what to
// change.
func TestCallLimit(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		max   int
		files uint64
		want  int
		msg   string
	}{
		{max: 0, files: 1024, want: 1024 - keptFiles},
		{max: 0, files: 524288, want: 524288 - keptFiles},
		{max: 0, files: 1 << 40, want: maxMaxCalls},
		{max: 500, files: 1024, want: 500},
		{max: 1024 - keptFiles, files: 1024, want: 1024 - keptFiles},
		{max: 1024 - keptFiles + 1, files: 1024, msg: `config: max-calls: "881" needs 1025 open files, but the open-file limit is 1024: raise LimitNOFILE in the systemd unit (or ulimit -n), or lower max-calls to at most 880`},
		{max: 0, files: keptFiles, msg: `leaves no room for calls: the open-file limit is 144`},
	} {
		cfg.MaxCalls = tc.max
		got, err := cfg.callLimit(tc.files)
		if tc.msg != "" {
			if consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("max-calls %d under %d files: %d, %v; want %q", tc.max, tc.files, got, err, tc.msg)
			}
		} else if err != nil || got != tc.want {
			t.Errorf("max-calls %d under %d files: %d, %v; want %d", tc.max, tc.files, got, err, tc.want)
		}
	}
}

// TestCheckMaxCallDuration: a ceiling no longer than asking for consent can take would cut
// every such call off before its choice.
func TestCheckMaxCallDuration(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Notices = map[string]Notice{"nb": {Duration: 80 * time.Second}, "en": {Duration: 70 * time.Second}}
	cfg.Tries, cfg.DigitTimeout, cfg.MaxCallDuration = 9, time.Minute, 20*time.Minute
	err := cfg.CheckMaxCallDuration()
	want := `config: max-call-duration: "20m" is not longer than asking for consent can take (9 tries of the 1m20s notice and the 1m digit-timeout: 21m): raise it`
	if consent.ErrorCode(err) != consent.EINVALID || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("CheckMaxCallDuration = %v, want %q", err, want)
	}
	cfg.MaxCallDuration = 22 * time.Minute
	if err := cfg.CheckMaxCallDuration(); err != nil {
		t.Fatal(err)
	}
}
