package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/metrics"
	"github.com/callconsent/callconsent/retention"
)

// auditCheckEvery is how often the daemon verifies the audit log (at start, then hourly): a
// tampered log must be noticed while the evidence is fresh. Pruning runs at start and daily.
const (
	auditCheckEvery = time.Hour
	auditPruneEvery = 24 * time.Hour
)

// loopAuditCheck names the audit check among the loops that recover from a panic.
const loopAuditCheck = "audit-check"

// auditCheck verifies the audit log's chain on a schedule and prunes entries older than
// audit-retention. A failed verification is an alarm in status (exit 5), an error in the log,
// callconsent_audit_chain_verified 0 and callconsent_alarms_total{kind="audit-chain"}; the alarm
// stays until the daemon restarts, even if a later verification passes (a cut must not heal by
// itself: someone has to look, keep the evidence and restart).
type auditCheck struct {
	svc       *access.Service
	every     time.Duration
	pruneAge  time.Duration
	pruneTick time.Duration
	now       func() time.Time
	log       *slog.Logger
	// OnPanic and OnFailure, when set, are told of a recovered panic and of each failure.
	OnPanic   func(*consent.PanicError)
	OnFailure func()

	verified atomic.Bool // the last verification passed
	alarm    alarmLatch  // stays until a restart, once raised

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Open starts the schedule: a prune and a verification at once, then on their intervals.
func (c *auditCheck) Open(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Go(func() {
		c.run(ctx, true)
		verify, prune := time.NewTicker(c.every), time.NewTicker(c.pruneTick)
		defer verify.Stop()
		defer prune.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-prune.C:
				c.run(ctx, true)
			case <-verify.C:
				c.run(ctx, false)
			}
		}
	})
	return nil
}

// Close stops the schedule; a verification under way is cancelled.
func (c *auditCheck) Close() error {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	return nil
}

// run prunes (when asked) and verifies, recovering from a panic, which leaves the log unverified.
func (c *auditCheck) run(ctx context.Context, prune bool) {
	err := consent.CatchPanic(func() error {
		if prune {
			if n, err := c.svc.Prune(ctx, daemonActor, c.pruneAge); err != nil && ctx.Err() == nil {
				// A prune refuses a chain that does not verify: that is tampering (or a lost
				// head file), an alarm, not a retry.
				c.log.Error("audit log not pruned; will retry", "err", err)
				if consent.ErrorCode(err) == consent.ECONFLICT {
					c.raise(err.Error())
				}
			} else if n > 0 {
				c.log.Info("audit log pruned", "entries", n, "older_than", fmtDuration(c.pruneAge))
			}
		}
		c.verify(ctx)
		return nil
	})
	var pe *consent.PanicError
	if errors.As(err, &pe) {
		c.log.Error("alarm: panic recovered in the audit check; going on", "err", pe.Error(), "stack", string(pe.Stack))
		if c.OnPanic != nil {
			c.OnPanic(pe)
		}
		c.raise(fmt.Sprintf("the verification panicked: %s", pe.Error()))
	}
}

func (c *auditCheck) verify(ctx context.Context) {
	rep, err := c.svc.Verify(ctx, daemonActor)
	if ctx.Err() != nil {
		return
	}
	switch {
	case err != nil:
		c.raise(fmt.Sprintf("the audit log could not be verified: %v", err))
	case !rep.OK():
		c.raise(fmt.Sprintf("the audit log was tampered with: %d problem(s), first: %s; keep a copy of the database and %s as evidence, and run callconsent audit verify", len(rep.Problems), rep.Problems[0].Message, "the head file"))
	default:
		c.verified.Store(true)
		if _, kept := c.alarm.get(); kept {
			// The alarm stays until the daemon restarts: a log that verifies again may have been
			// restored, or its cut may have been covered up; an officer must look and restart.
			c.log.Warn("the audit log verifies again; the audit-chain alarm stays until the daemon is restarted", "entries", rep.Entries)
		} else {
			c.log.Debug("audit log verified", "entries", rep.Entries)
		}
	}
}

func (c *auditCheck) raise(msg string) {
	c.verified.Store(false)
	c.alarm.raise(c.now(), metrics.AlarmAuditChain, msg)
	c.log.Error("alarm: audit log verification failed", "err", msg)
	if c.OnFailure != nil {
		c.OnFailure()
	}
}

// Alarm returns the alarm of the last verification, if it failed.
func (c *auditCheck) Alarm() (retention.Alarm, bool) {
	if c == nil {
		return retention.Alarm{}, false
	}
	return c.alarm.get()
}

// openAuditCheck starts the daemon's audit verification and pruning, and exports
// callconsent_audit_chain_verified.
func (d *daemon) openAuditCheck(ctx context.Context) error {
	d.auditCheck = &auditCheck{svc: d.access, every: cmp.Or(d.auditCheckEvery, auditCheckEvery), pruneAge: d.cfg.AuditRetention,
		pruneTick: auditPruneEvery, now: time.Now, log: d.log.With("system", "audit")}
	d.auditCheck.OnPanic = d.counted(loopAuditCheck)
	d.auditCheck.OnFailure = d.metrics.AuditChainFailed
	d.metrics.GaugeFunc("audit_chain_verified", "1 while the last verification of the audit log's chain passed (0 until the first, at start).",
		func() float64 {
			if d.auditCheck.verified.Load() {
				return 1
			}
			return 0
		})
	if err := d.auditCheck.Open(ctx); err != nil {
		return fmt.Errorf("audit check: %w", err)
	}
	d.closers = append(d.closers, d.auditCheck.Close)
	return nil
}
