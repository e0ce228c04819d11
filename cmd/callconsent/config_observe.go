package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
)

// The values of log-format.
const (
	LogFormatText = "text" // slog's key=value lines
	LogFormatJSON = "json" // one JSON object a line, keys as in logKeys
)

// remoteMetricsRisk is why metrics-listen belongs on loopback: the metrics carry no personal
// data, but nothing authenticates a client, and /readyz tells whether recording works now.
const remoteMetricsRisk = "/metrics and /readyz answer anyone who can reach the port, without " +
	"authentication, and tell whether calls are being recorded"

// validateObservability checks metrics-listen: empty (off), or host:port on loopback unless
// allow-remote-metrics is set.
func (c *Config) validateObservability() error {
	if c.MetricsListen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
		return invalidKey("metrics-listen", c.MetricsListen, `is not host:port (e.g. 127.0.0.1:9464; "" turns the listener off)`)
	}
	if err := validHostPort("metrics-listen", c.MetricsListen, 0); err != nil {
		return err
	}
	if !c.AllowRemoteMetrics && !loopbackHostPort(c.MetricsListen) {
		return invalidKey("metrics-listen", c.MetricsListen, "is not a loopback address: "+remoteMetricsRisk+
			"; use 127.0.0.1 or ::1 and scrape through a local agent, or set allow-remote-metrics: true "+
			"(and allow the scraper in the unit's IPAddressAllow=)")
	}
	return nil
}

// metricsCheck is config check's line on metrics-listen.
func metricsCheck(cfg *Config) check {
	name := "metrics listener"
	switch {
	case cfg.MetricsListen == "":
		return check{name: name, info: "off (metrics-listen is empty); status over the control socket still works"}
	case !loopbackHostPort(cfg.MetricsListen):
		return check{name: name, info: fmt.Sprintf("%s off loopback, allowed by allow-remote-metrics: true: %s; "+
			"the unit's IPAddressAllow= must let the scraper in", cfg.MetricsListen, remoteMetricsRisk)}
	}
	return check{name: name, info: fmt.Sprintf("http://%s/metrics, /healthz, /readyz on loopback", cfg.MetricsListen)}
}

// newLogger returns the daemon's logger in the configured format and level, writing to w.
// JSON lines carry the keys time, level, msg, then the record's own (system, call, err, ...).
func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == LogFormatJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
