package retention

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Metrics counts what the sweeper did and every time a guard fired, for export by the daemon.
// A guard that fires is never silent: it is an error in the log, an error from Sweep and a
// count here.
type Metrics struct {
	Sweeps     atomic.Int64 // sweeps started
	Deleted    atomic.Int64 // files deleted (tombstoned)
	Bytes      atomic.Int64 // bytes deleted
	Errors     atomic.Int64 // files that could not be deleted, folders that could not be read
	NotGranted atomic.Int64 // audio of calls without a grant found and deleted
	Alarms     atomic.Int64 // every action with an alarm, not-granted included

	GuardDir            atomic.Int64 // recordings folder missing or unreadable
	GuardClockBackwards atomic.Int64 // wall clock before the last sweep's
	GuardClockJump      atomic.Int64 // wall clock ran ahead of the monotonic clock
	GuardShare          atomic.Int64 // sweep refused: too large a share at once
}

// checkClock refuses to decide by a wall clock that cannot be trusted: one that is before the
// last sweep stored in the database (it would let files live on, and a later correction would
// make one sweep delete a burst), or one that ran more than a day ahead of the monotonic clock
// since the last sweep of this process (it would delete recordings early). The in-process check
// is sticky by design: it holds until the clocks agree again, the process restarts, or an
// operator sweeps with Force.
func (s *Sweeper) checkClock(ctx context.Context, wall time.Time, mono time.Duration) error {
	v, err := s.store.SweepState(ctx, stateLastSweep)
	if err != nil {
		return fmt.Errorf("read time of last sweep: %w", err)
	}
	if v != "" {
		last, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("stored time of last sweep %q: %w", v, err)
		}
		if wall.Before(last) {
			s.metrics.GuardClockBackwards.Add(1)
			return errorf(ErrClockBackwards, "now %s, last sweep %s", wall.Format(time.RFC3339), last.Format(time.RFC3339))
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

// checkShare refuses a sweep that would newly delete more than MaxDeleteShare of everything
// there is (recordings not yet deleted plus the files without a row it would delete), unless it deletes at
// most MaxDeleteFloor files. A clock set years ahead or a recordings folder pointed at the
// wrong place would otherwise delete everything in one go. Resumed deletions do not count:
// they were decided before. The total is counted only when the floor is passed.
func (s *Sweeper) checkShare(ctx context.Context, actions []Action) error {
	n, loose := 0, 0
	for _, a := range actions {
		if !a.Resume {
			n++
			if a.State == "" {
				loose++ // a file without a recording row
			}
		}
	}
	if n <= s.policy.MaxDeleteFloor {
		return nil
	}
	total, err := s.store.CountRecordings(ctx)
	if err != nil {
		return fmt.Errorf("count recordings: %w", err)
	}
	total += loose
	if float64(n) <= s.policy.MaxDeleteShare*float64(total) {
		return nil
	}
	s.metrics.GuardShare.Add(1)
	return errorf(ErrTooMany, "%d of %d", n, total)
}
