package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
)

// Options change one sweep.
type Options struct {
	DryRun     bool      // decide and report, delete nothing, remember nothing
	Force      bool      // override the clock guards and the share guard (an operator's call, stored as approval)
	OrphanScan bool      // scan the recent folders for orphans now, not only when due
	AsOf       time.Time // decide as if it were this time; dry runs only
	// Planned, when set, is told how many files the sweep is about to delete, before it starts
	// (a progress bar counts them against Metrics' Deleted and Errors).
	Planned func(files int)
}

// Sweep deletes what is due now. Errors on single files are logged, counted and kept as an
// alarm (see Stuck), and the sweep goes on; the returned error then wraps ErrIncomplete. A guard
// that fires (clock, share) holds back new deletions but still lets committed ones
// (withdrawals) finish; its error is returned with the report and stays an alarm until a sweep
// passes. Only a missing folder or a failing store stops the sweep early.
//
// A dry run decides by the clock it has even when a guard would hold the sweep back, and reports
// both: what is due, and that the guard would hold back HeldBack of it. It writes nothing.
func (s *Sweeper) Sweep(ctx context.Context, o Options) (rep Report, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wall, mono := s.now().UTC(), s.Monotonic()
	now := wall
	if !o.AsOf.IsZero() {
		if !o.DryRun {
			return newReport(wall, o), consent.Errorf(consent.EINVALID, "as-of is only allowed with a dry run")
		}
		now = o.AsOf.UTC()
	}
	rep = newReport(now, o)
	if s.readOnly && !o.DryRun {
		return rep, ErrReadOnly
	}
	s.metrics.Sweeps.Add(1)
	defer func() {
		rep.Duration = time.Since(rep.started)
		if err != nil {
			rep.Error = consent.ErrorMessage(err)
			if consent.ErrorCode(err) == consent.EINTERNAL {
				rep.Error = err.Error()
			}
		}
		s.logReport(rep, err)
	}()
	if s.root == nil {
		return rep, consent.Errorf(consent.EINTERNAL, "sweeper not open")
	}
	if err := s.checkRoot(o.DryRun); err != nil {
		return rep, err
	}

	var guard error
	if o.AsOf.IsZero() && !o.Force {
		guard = s.checkClock(ctx, wall, mono, o.DryRun, &rep)
	}
	cutoff := now.Add(-s.policy.Retention)
	// The inventory is taken even when the clock guard fired: a sweep held back says how much
	// it held back, and a dry run what it would delete. Only what was decided before (resumed
	// deletions) is carried out under a guard.
	rep.OrphanScan, err = s.orphanScanDue(ctx, now, o)
	if err != nil {
		return rep, err
	}
	inv, walked, err := s.inventory(ctx, cutoff, rep.OrphanScan)
	if err != nil {
		return rep, err
	}
	rep.Errors += walked.Errors
	actions := Due(inv, now, s.policy)
	if guard == nil && !o.Force {
		guard = s.checkShare(ctx, actions, now, &rep)
	}
	if !o.DryRun && guard == nil {
		defer func() {
			if ctx.Err() == nil {
				rep.FoldersRemoved = s.walker.RemoveEmpty(walked.Old)
			}
		}()
	}
	if guard != nil {
		rep.Skipped = consent.ErrorMessage(guard)
		if consent.ErrorCode(guard) == consent.EINTERNAL {
			rep.Skipped = guard.Error()
		}
		resumed := resumeOnly(actions)
		rep.HeldBack = len(actions) - len(resumed)
		if !o.DryRun {
			actions = resumed
		}
	}

	if o.DryRun {
		rep.Planned = actions
		for _, a := range actions {
			rep.add(a)
		}
		return rep, guard
	}
	if guard != nil {
		s.alarms.raise(AlarmKindGuard, fmt.Sprintf("%s (%d file(s) held back)", rep.Skipped, rep.HeldBack))
	} else {
		s.alarms.clear(AlarmKindGuard)
	}
	var forcedN, forcedTotal int
	var forcedOver bool
	if o.Force {
		if forcedN, forcedTotal, forcedOver, err = s.share(ctx, actions); err != nil {
			return rep, err
		}
	}
	if o.Planned != nil {
		o.Planned(len(actions))
	}
	execErr := s.execute(ctx, actions, now, &rep)
	if guard == nil && ctx.Err() == nil {
		// Every due file was tried: a stuck file not among them is stuck no more.
		seen := make(map[string]bool, len(actions))
		for _, a := range actions {
			seen[a.Path] = true
		}
		s.alarms.keepOnly(seen)
		if forcedOver {
			if a, err := s.approve(ctx, now, forcedN, forcedTotal); err != nil {
				s.log.Error("store the approval of a forced sweep failed", "err", err)
				rep.Errors++
			} else {
				rep.Approval = "share guard overridden and the approval stored: " + a.String() + "; later sweeps under these settings proceed"
				s.log.Warn("share guard overridden by an operator; approval stored", "files", forcedN, "total", forcedTotal)
			}
		}
		s.afterSweep(ctx, now, mono, cutoff, &rep)
	}
	return rep, join(guard, execErr)
}

// afterSweep purges call metadata past retention, checkpoints the WAL so that deleted
// pseudonyms do not linger in it, and remembers the time of this sweep. Failures are logged and
// counted: the deletions themselves are done.
func (s *Sweeper) afterSweep(ctx context.Context, now time.Time, mono time.Duration, cutoff time.Time, rep *Report) {
	purged, err := s.store.PurgeCalls(ctx, cutoff)
	rep.Purged = purged
	if err != nil {
		s.log.Error("purge call metadata failed", "err", err)
		rep.Errors++
	}
	if purged > 0 || rep.Total().Files > 0 || s.checkpoint {
		if err := s.store.Checkpoint(ctx); err != nil {
			s.log.Warn("checkpoint after sweep failed; retrying after the next sweep", "err", err)
			s.checkpoint = true
		} else {
			s.checkpoint = false
		}
	}
	if err := s.store.SetSweepState(ctx, stateLastSweep, now.Format(time.RFC3339Nano)); err != nil {
		s.log.Error("store time of last sweep failed", "err", err)
		rep.Errors++
	}
	if rep.OrphanScan {
		if err := s.store.SetSweepState(ctx, stateLastOrphanScan, now.Format(time.RFC3339Nano)); err != nil {
			s.log.Error("store time of last orphan scan failed", "err", err)
		}
	}
	s.lastWall, s.lastMono = now, mono
}

// inventory reads the rows that may be due, walks the folders wholly before the cutoff (all
// date folders on an orphan scan), and looks up the calls named by files that no due row
// explains, so Due can tell audio without a grant from an orphan from a young recording.
func (s *Sweeper) inventory(ctx context.Context, cutoff time.Time, recent bool) (Inventory, recordings.Walk, error) {
	inv, err := s.dueRows(ctx, cutoff)
	if err != nil {
		return inv, recordings.Walk{}, err
	}
	known := make(map[string]bool, len(inv.Rows))
	for _, r := range inv.Rows {
		known[r.Path] = true
	}
	walked, err := s.walker.Walk(ctx, cutoff, recent, func(p string) bool { return known[p] })
	if err != nil {
		s.metrics.GuardDir.Add(1)
		if errors.Is(err, recordings.ErrUnreadable) {
			err = dirError(s.dir, err)
		}
		return inv, walked, err
	}
	inv.Files = walked.Files
	var unknown []string
	for _, f := range walked.Files {
		if !known[f.Path] {
			if u := recordings.CallUUID(f.Path); u != "" {
				unknown = append(unknown, u)
			}
		}
	}
	if len(unknown) > 0 {
		calls, err := s.store.FindCallsByUUID(ctx, unknown)
		if err != nil {
			return inv, walked, fmt.Errorf("look up calls of files: %w", err)
		}
		inv.Rows = append(inv.Rows, rowsFromCalls(calls)...)
	}
	return inv, walked, nil
}

// orphanScanDue says whether this sweep scans the recent folders: when asked, or when the
// last scan is older than OrphanScanEvery. The time is kept in the store so that a CLI sweep
// and a restarted daemon do not each pay for a full scan.
func (s *Sweeper) orphanScanDue(ctx context.Context, now time.Time, o Options) (bool, error) {
	if o.OrphanScan {
		return true, nil
	}
	v, err := s.store.SweepState(ctx, stateLastOrphanScan)
	if err != nil {
		return false, fmt.Errorf("read time of last orphan scan: %w", err)
	}
	last, err := time.Parse(time.RFC3339Nano, v)
	return err != nil || !now.Before(last.Add(s.policy.OrphanScanEvery)), nil
}
