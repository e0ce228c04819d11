package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"
	_ "time/tzdata" // time-zone names work on a host without the tz database
)

// The web console's keys (web/). They are appended to settings here, beside their
// validation, so that the console's configuration stays in one file.
func init() {
	settings = append(settings,
		stringSetting("web-listen", "host:port", "listen address of the web console (loopback unless web-cert and web-key are set; \"\" turns it off)", func(c *Config) *string { return &c.WebListen }),
		pathSetting("web-cert", "TLS certificate `file` (PEM) of the web console; required off loopback", func(c *Config) *string { return &c.WebCert }),
		pathSetting("web-key", "TLS private key `file` (PEM) of the web console", func(c *Config) *string { return &c.WebKey }),
		stringSetting("time-zone", "zone", "time zone the web console shows dates in (stored in UTC), e.g. Europe/Oslo", func(c *Config) *string { return &c.TimeZone }),
	)
}

// Defaults of the web console's keys.
const (
	defaultWebListen = "127.0.0.1:8085"
	defaultTimeZone  = "Europe/Oslo"
	// trialWebListen is web-listen under --data-dir when not set: a free loopback port, logged
	// at start, so trials and tests side by side do not fight over one port.
	trialWebListen = "127.0.0.1:0"
)

// validateWeb checks web-listen (empty: off; plain HTTP only on loopback, behind a reverse
// proxy), that web-cert and web-key come together, and time-zone.
func (c *Config) validateWeb() error {
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		return invalidKey("time-zone", c.TimeZone, "is not a time zone name (e.g. Europe/Oslo or UTC)")
	}
	if (c.WebCert == "") != (c.WebKey == "") {
		return invalidKey("web-cert", c.WebCert, "and web-key go together: give both files for TLS, or neither")
	}
	if c.WebListen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.WebListen); err != nil {
		return invalidKey("web-listen", c.WebListen, `is not host:port (e.g. 127.0.0.1:8085; "" turns the console off)`)
	}
	if err := validHostPort("web-listen", c.WebListen, 0); err != nil {
		return err
	}
	if c.WebCert == "" && !loopbackHostPort(c.WebListen) {
		return invalidKey("web-listen", c.WebListen, "is not a loopback address and no web-cert and web-key are set: "+
			"passwords and recordings would cross the network in plain text; set web-cert and web-key, "+
			"or listen on 127.0.0.1 behind a reverse proxy that terminates TLS")
	}
	return nil
}

// webCheck is config check's line on the console: off, or where, and that the certificate
// and key load.
func webCheck(cfg *Config) check {
	name := "web console"
	switch {
	case cfg.WebListen == "":
		return check{name: name, info: "off (web-listen is empty)"}
	case cfg.WebCert != "":
		if _, err := tls.LoadX509KeyPair(cfg.WebCert, cfg.WebKey); err != nil {
			return check{name: name, err: fmt.Errorf("web-cert %s and web-key %s: %w", cfg.WebCert, cfg.WebKey, err)}
		}
		return check{name: name, info: fmt.Sprintf("https://%s (dates in %s)", cfg.WebListen, cfg.TimeZone)}
	}
	return check{name: name, info: fmt.Sprintf("http://%s on loopback (dates in %s); put a TLS proxy in front for other hosts", cfg.WebListen, cfg.TimeZone)}
}

// webLocation is the time zone of time-zone (validated by LoadConfig).
func (c *Config) webLocation() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}
