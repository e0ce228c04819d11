package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/metrics"
	"github.com/callconsent/callconsent/retention"
)

// integrityEvery is how often the daemon checks its database file, besides the check at start
// (consent/sqlite's Open). The check reads every page, seconds at a million calls, which is why
// the queries do not run it and the daemon runs it once a day.
const integrityEvery = 24 * time.Hour

// alarmKindIntegrity is the status alarm of a database file that failed its check.
const alarmKindIntegrity = metrics.AlarmIntegrity

// loopIntegrity names the integrity check among the loops that recover from a panic.
const loopIntegrity = "integrity-check"

// quickChecker is what the integrity check needs of the store.
type quickChecker interface {
	QuickCheck(ctx context.Context) error
}

// integrityCheck runs the database's integrity check (SQLite's quick_check) on a schedule. A
// file damaged while the daemon runs (a failing disk, a backup tool or a copy writing into it)
// is an alarm in status and an error in the log, until a later check passes; the start refuses
// a damaged file, so a restart is no way out: the operator restores it from a backup.
type integrityCheck struct {
	db    quickChecker
	every time.Duration
	now   func() time.Time
	log   *slog.Logger
	// OnPanic, when set, is told of a panic recovered in a check (the daemon counts it).
	OnPanic func(*consent.PanicError)
	// OnFailure, when set, is told of each failed check (the daemon counts it as an alarm).
	OnFailure func()

	alarm alarmLatch // none while the last check passed

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newIntegrityCheck returns a check of db every interval, not yet started.
func newIntegrityCheck(db quickChecker, every time.Duration, logger *slog.Logger) *integrityCheck {
	return &integrityCheck{db: db, every: every, now: time.Now, log: logger.With("system", "integrity")}
}

// Open starts the schedule. The first check runs one interval after Open: the store was
// checked when it was opened.
func (c *integrityCheck) Open(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Go(func() {
		t := time.NewTicker(c.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.checkRecovered(ctx)
			}
		}
	})
	return nil
}

// Close stops the schedule; a check under way is cancelled and leaves the alarm as it was.
func (c *integrityCheck) Close() error {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	return nil
}

// checkRecovered runs check; a panic in it is logged, counted and raised as the alarm, since
// the file went unchecked, and the schedule goes on.
func (c *integrityCheck) checkRecovered(ctx context.Context) {
	err := consent.CatchPanic(func() error { c.check(ctx); return nil })
	var pe *consent.PanicError
	if errors.As(err, &pe) {
		c.log.Error("alarm: panic recovered in the database integrity check; going on", "err", pe.Error(), "stack", string(pe.Stack))
		if c.OnPanic != nil {
			c.OnPanic(pe)
		}
		c.raise(fmt.Errorf("the check panicked: %s", pe.Error()))
	}
}

// check runs one check now and raises or clears the alarm by its result.
func (c *integrityCheck) check(ctx context.Context) {
	start := time.Now()
	err := c.db.QuickCheck(ctx)
	if ctx.Err() != nil {
		return // stopping: no verdict on the file
	}
	if err != nil {
		c.raise(err)
		return
	}
	if c.alarm.clear() {
		c.log.Info("the database passed its integrity check again; alarm cleared", "took", time.Since(start).Round(time.Millisecond))
	} else {
		c.log.Info("database integrity check passed", "took", time.Since(start).Round(time.Millisecond))
	}
}

// raise makes the alarm active with the check's error, keeping the time it was first raised.
func (c *integrityCheck) raise(err error) {
	now := c.now().UTC()
	c.alarm.raise(now, alarmKindIntegrity, fmt.Sprintf("integrity check of the database at %s: %v; stored decisions may be damaged or lost: "+
		"stop callconsent before restoring (callers then reach the employee unrecorded; a damaged file is refused at start)",
		now.Format(time.RFC3339), err))
	c.log.Error("alarm: database integrity check failed", "err", err)
	if c.OnFailure != nil {
		c.OnFailure()
	}
}

// Alarm returns the alarm of the last check, if it failed; none before Open.
func (c *integrityCheck) Alarm() (retention.Alarm, bool) {
	if c == nil {
		return retention.Alarm{}, false
	}
	return c.alarm.get()
}

// openIntegrityCheck starts the daemon's schedule of integrity checks on its database.
func (d *daemon) openIntegrityCheck(ctx context.Context) error {
	d.integrity = newIntegrityCheck(d.store.DB, cmp.Or(d.integrityEvery, integrityEvery), d.log)
	d.integrity.OnPanic = d.counted(loopIntegrity)
	d.integrity.OnFailure = d.metrics.IntegrityFailed
	if err := d.integrity.Open(ctx); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	d.closers = append(d.closers, d.integrity.Close)
	return nil
}
