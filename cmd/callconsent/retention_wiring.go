package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/retention"
)

// The SQLite store is what the sweeper needs.
var _ retention.Store = (*sqlite.DB)(nil)

// retentionPolicy is the retention policy of the configuration.
func retentionPolicy(cfg *Config) retention.Policy {
	p := retention.DefaultPolicy()
	p.Retention = cfg.Retention
	p.OrphanGrace = cfg.OrphanGrace
	p.MaxDeleteShare = cfg.MaxDeleteShare
	return p
}

// newSweeper returns a sweeper for the configuration, not yet open. It knows the interval of
// sweep-schedule, after which a stored last-sweep time in the future is discarded.
func newSweeper(cfg *Config, db *sqlite.DB, logger *slog.Logger) (*retention.Sweeper, error) {
	interval, err := retention.ScheduleInterval(cfg.SweepSchedule)
	if err != nil {
		return nil, consent.Errorf(consent.EINVALID, "config: sweep-schedule: %v", err)
	}
	sw := retention.NewSweeper(db, cfg.RecordingsDir, retentionPolicy(cfg), time.Now, logger) // adds system=retention
	sw.Interval = interval
	return sw, nil
}

// openSweeper opens a sweeper on the recordings folder; Open also finishes every deletion a
// crash interrupted, before anything else runs.
func openSweeper(ctx context.Context, cfg *Config, db *sqlite.DB, logger *slog.Logger) (*retention.Sweeper, error) {
	sw, err := newSweeper(cfg, db, logger)
	if err != nil {
		return nil, err
	}
	if err := sw.Open(ctx); err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	return sw, nil
}

// openRetention starts the retention schedule inside the daemon, and the withdrawer that the
// control socket serves.
func (d *daemon) openRetention(ctx context.Context) error {
	sw, err := newSweeper(d.cfg, d.store.DB, d.log)
	if err != nil {
		return err
	}
	sw.OnUnlink = d.metrics.FileDeleted
	if err := sw.Open(ctx); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	d.sweeper = sw
	d.closers = append(d.closers, sw.Close)
	d.withdrawer = &consent.Withdrawer{Store: d.store.DB, Deleter: sw, Live: d.live, Control: d.control, Now: time.Now, Logger: d.log.With("system", "withdraw")}
	sch := retention.NewScheduler(d.cfg.SweepSchedule, observedSweeps{d}, d.log) // adds system=retention-cron
	sch.OnPanic = d.counted(loopSweep)
	if err := sch.Open(ctx); err != nil {
		return fmt.Errorf("retention schedule: %w", err)
	}
	d.closers = append(d.closers, sch.Close)
	return nil
}
