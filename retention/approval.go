package retention

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// approval is an operator's decision, taken with `sweep --force`, that a sweep may delete more
// than MaxDeleteShare at once under the current settings: after retention was shortened, or
// when a small installation's recordings expire in one bulk. It is stored in the sweep state,
// so that later scheduled sweeps under the same settings proceed instead of being held back
// until the next forced sweep (R-RETAIN-1 has no exception). A change of retention, of
// max-delete-share or of the recordings folder needs a new approval. It holds no personal data.
type approval struct {
	At             time.Time `json:"at"`
	Retention      string    `json:"retention"` // Policy.Retention as a duration string
	MaxDeleteShare float64   `json:"max_delete_share"`
	Dir            string    `json:"recordings_dir"`
	Files          int       `json:"files"` // new deletions of the forced sweep
	Total          int       `json:"total"` // recordings there were
}

// covers says whether the approval holds for a sweep at now under policy p on folder dir. An
// approval from the future does not: it was given by a clock that ran ahead.
func (a approval) covers(p Policy, dir string, now time.Time) bool {
	return a.Retention == p.Retention.String() && a.MaxDeleteShare == p.MaxDeleteShare && a.Dir == dir && !now.Before(a.At)
}

func (a approval) String() string {
	return fmt.Sprintf("approved by `sweep --force` at %s for retention %s and max-delete-share %g (%d of %d then)",
		a.At.Format(time.RFC3339), a.Retention, a.MaxDeleteShare, a.Files, a.Total)
}

// approval returns the stored approval, or nil when there is none.
func (s *Sweeper) approval(ctx context.Context) (*approval, error) {
	v, err := s.store.SweepState(ctx, stateShareApproval)
	if err != nil {
		return nil, fmt.Errorf("read share approval: %w", err)
	} else if v == "" {
		return nil, nil
	}
	var a approval
	if err := json.Unmarshal([]byte(v), &a); err != nil {
		// Unreadable: as if none were given, and the guard asks again.
		s.log.Warn("stored share approval unreadable; ignored", "err", err)
		return nil, nil
	}
	return &a, nil
}

// approve stores the approval of a forced sweep that deleted n of total at now.
func (s *Sweeper) approve(ctx context.Context, now time.Time, n, total int) (approval, error) {
	a := approval{At: now, Retention: s.policy.Retention.String(), MaxDeleteShare: s.policy.MaxDeleteShare,
		Dir: s.dir, Files: n, Total: total}
	b, err := json.Marshal(a)
	if err != nil {
		return a, err
	}
	if err := s.store.SetSweepState(ctx, stateShareApproval, string(b)); err != nil {
		return a, fmt.Errorf("store share approval: %w", err)
	}
	return a, nil
}
