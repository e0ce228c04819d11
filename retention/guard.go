package retention

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Metrics counts what the sweeper did and every time a guard fired, for export by the daemon.
// A guard that fires is never silent: it is an error in the log, an error from Sweep, an active
// alarm (see Alarms) and a count here.
type Metrics struct {
	Sweeps     atomic.Int64 // sweeps started
	Deleted    atomic.Int64 // files deleted (tombstoned)
	Bytes      atomic.Int64 // bytes deleted
	Errors     atomic.Int64 // files that could not be deleted, folders that could not be read
	NotGranted atomic.Int64 // audio of calls without a grant found and deleted
	Orphans    atomic.Int64 // files without a recording row found and deleted
	Stuck      atomic.Int64 // files that newly could not be deleted (an alarm each)
	Alarms     atomic.Int64 // actions with an alarm, not-granted included, and alarms raised

	GuardDir            atomic.Int64 // recordings folder missing or unreadable
	GuardClockBackwards atomic.Int64 // wall clock before the last sweep's
	GuardClockJump      atomic.Int64 // wall clock ran ahead of the monotonic clock
	GuardShare          atomic.Int64 // sweep refused: too large a share at once
	ClockDiscarded      atomic.Int64 // a stored last-sweep time in the future was discarded
}

// checkClock refuses to decide by a wall clock that cannot be trusted: one that is before the
// last sweep stored in the database (it would let files live on, and a later correction would
// make one sweep delete a burst), or one that ran more than a day ahead of the monotonic clock
// since the last sweep of this process (it would delete recordings early). The in-process check
// is sticky by design: it holds until the clocks agree again, the process restarts, or an
// operator sweeps with Force.
//
// The stored time may itself be the wrong one: written while the clock once ran ahead, it
// would hold every deletion back until the real time passes it, for months (R-RETAIN-1 has no
// exception). So the first sweep that finds the clock behind it remembers when, and once one
// Interval has passed on this clock, the stored time is discarded with an alarm and the sweep
// proceeds. A dry run only reports: it remembers and discards nothing.
func (s *Sweeper) checkClock(ctx context.Context, wall time.Time, mono time.Duration, dryRun bool, rep *Report) error {
	v, err := s.store.SweepState(ctx, stateLastSweep)
	if err != nil {
		return fmt.Errorf("read time of last sweep: %w", err)
	}
	behindV, err := s.store.SweepState(ctx, stateClockBehind)
	if err != nil {
		return fmt.Errorf("read time the clock was first behind: %w", err)
	}
	if v != "" {
		last, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("stored time of last sweep %q: %w", v, err)
		}
		if wall.Before(last) {
			if discarded, err := s.clockBehind(ctx, wall, last, behindV, dryRun, rep); err != nil || !discarded {
				return err
			}
			behindV = ""
		}
	}
	if behindV != "" && !dryRun {
		if err := s.store.SetSweepState(ctx, stateClockBehind, ""); err != nil {
			return fmt.Errorf("clear time the clock was first behind: %w", err)
		}
	}
	if !s.lastWall.IsZero() {
		ahead := wall.Sub(s.lastWall) - (mono - s.lastMono)
		if ahead > maxClockJump {
			s.metrics.GuardClockJump.Add(1)
			return errorf(ErrClockJump, "ahead by %s; correct the clock, or restart the daemon to accept it", ahead.Round(time.Second))
		}
	}
	return nil
}

// clockBehind handles a wall clock before the stored last sweep: it returns ErrClockBackwards,
// or discarded=true once the clock has been behind for one Interval.
func (s *Sweeper) clockBehind(ctx context.Context, wall, last time.Time, behindV string, dryRun bool, rep *Report) (discarded bool, err error) {
	since, perr := time.Parse(time.RFC3339Nano, behindV)
	if perr != nil || since.After(wall) {
		// First seen now (or the clock went back further): remember it.
		since = wall
		if !dryRun {
			if err := s.store.SetSweepState(ctx, stateClockBehind, wall.Format(time.RFC3339Nano)); err != nil {
				return false, fmt.Errorf("store time the clock was first behind: %w", err)
			}
		}
	}
	until := since.Add(s.Interval)
	if !wall.Before(until) && !dryRun {
		// The clock has run on for a whole interval without reaching the stored time: the
		// stored time is the wrong one. This sweep's time takes its place.
		if err := s.store.SetSweepState(ctx, stateLastSweep, wall.Format(time.RFC3339Nano)); err != nil {
			return false, fmt.Errorf("discard time of last sweep: %w", err)
		}
		if err := s.store.SetSweepState(ctx, stateClockBehind, ""); err != nil {
			return false, fmt.Errorf("clear time the clock was first behind: %w", err)
		}
		s.metrics.ClockDiscarded.Add(1)
		s.metrics.Alarms.Add(1)
		rep.ClockReset = fmt.Sprintf("the stored time of the last sweep, %s, was in the future; discarded after the clock stayed behind it for %s",
			last.Format(time.RFC3339), s.Interval)
		s.log.Error("alarm: stored time of the last sweep is in the future; discarded", "last_sweep", last.Format(time.RFC3339),
			"behind_since", since.Format(time.RFC3339))
		return true, nil
	}
	s.metrics.GuardClockBackwards.Add(1)
	when := "at " + until.Format(time.RFC3339)
	if !wall.Before(until) {
		when = "by the next sweep" // a dry run
	}
	return false, errorf(ErrClockBackwards, "now %s, last sweep %s; if the clock is right, that time is discarded %s",
		wall.Format(time.RFC3339), last.Format(time.RFC3339), when)
}

// share counts the new deletions among actions and what they are a share of: recordings not
// yet deleted plus the files without a recording row that it would delete. Resumed deletions
// do not count: they were decided before. The total is counted only when the floor is passed;
// over says whether the share guard refuses.
func (s *Sweeper) share(ctx context.Context, actions []Action) (n, total int, over bool, err error) {
	loose := 0
	for _, a := range actions {
		if !a.Resume {
			n++
			if a.State == "" {
				loose++ // a file without a recording row
			}
		}
	}
	if n <= s.policy.MaxDeleteFloor {
		return n, 0, false, nil
	}
	if total, err = s.store.CountRecordings(ctx); err != nil {
		return n, 0, false, fmt.Errorf("count recordings: %w", err)
	}
	total += loose
	return n, total, float64(n) > s.policy.MaxDeleteShare*float64(total), nil
}

// checkShare refuses a sweep that would newly delete more than MaxDeleteShare of everything
// there is, unless it deletes at most MaxDeleteFloor files, or an operator approved sweeps under
// the current settings with Force (see approval). A clock set years ahead or a recordings folder
// pointed at the wrong place would otherwise delete everything in one go.
func (s *Sweeper) checkShare(ctx context.Context, actions []Action, now time.Time, rep *Report) error {
	n, total, over, err := s.share(ctx, actions)
	if err != nil || !over {
		return err
	}
	a, err := s.approval(ctx)
	if err != nil {
		return err
	}
	if a != nil && a.covers(s.policy, s.dir, now) {
		rep.Approval = fmt.Sprintf("share guard passed (%d of %d): %s", n, total, a)
		s.log.Warn("share guard passed by a stored approval", "files", n, "total", total, "approved_at", a.At.Format(time.RFC3339))
		return nil
	}
	s.metrics.GuardShare.Add(1)
	return errorf(ErrTooMany, "%d of %d", n, total)
}
