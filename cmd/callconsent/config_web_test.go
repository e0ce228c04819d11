package main

import (
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

func TestConfigWeb(t *testing.T) {
	for name, tt := range map[string]struct {
		args []string
		want string // "" = valid
	}{
		"Defaults":        {nil, ""},
		"Off":             {[]string{"--web-listen", ""}, ""},
		"LoopbackV6":      {[]string{"--web-listen", "[::1]:8443"}, ""},
		"RemoteNeedsTLS":  {[]string{"--web-listen", "0.0.0.0:8443"}, "web-listen: \"0.0.0.0:8443\" is not a loopback address and no web-cert"},
		"EmptyHostRemote": {[]string{"--web-listen", ":8443"}, "is not a loopback address"},
		"RemoteWithTLS":   {[]string{"--web-listen", "0.0.0.0:8443", "--web-cert", "/c.pem", "--web-key", "/k.pem"}, ""},
		"CertWithoutKey":  {[]string{"--web-cert", "/c.pem"}, "web-cert: \"/c.pem\" and web-key go together"},
		"NotHostPort":     {[]string{"--web-listen", "8085"}, "is not host:port"},
		"BadPort":         {[]string{"--web-listen", "127.0.0.1:99999"}, "has no valid port"},
		"BadZone":         {[]string{"--time-zone", "Europe/Atlantis"}, "time-zone: \"Europe/Atlantis\" is not a time zone name"},
		"EmptyZone":       {[]string{"--time-zone", ""}, "time-zone: \"\" is not a time zone name"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadConfig("", false, testFlags(t, tt.args...))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.want != "" && (consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want EINVALID with %q", err, tt.want)
			}
		})
	}
	cfg, err := LoadConfig("", false, testFlags(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WebListen != "127.0.0.1:8085" || cfg.webLocation().String() != "Europe/Oslo" {
		t.Fatalf("defaults: web-listen %q, zone %v", cfg.WebListen, cfg.webLocation())
	}
	if got := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC).In(cfg.webLocation()).Hour(); got != 14 {
		t.Fatalf("Oslo summer time: hour %d, want 14", got)
	}
	trial, err := LoadConfig("", false, testFlags(t, "--data-dir", t.TempDir()))
	if err != nil || trial.WebListen != trialWebListen {
		t.Fatalf("--data-dir: web-listen %q (err %v), want a free loopback port", trial.WebListen, err)
	}
}
