package consent

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Reconciler finishes what a crash, a restart or a lost socket left half-done: recordings
// still marked live whose call FreeSWITCH no longer has are finalised from the file on disk,
// and calls still pending with no flow driving them become abandoned (they were never asked to
// the end, so they were never recorded). It runs at start and after every control reconnect.
type Reconciler struct {
	Store   Store
	Control Control
	Live    *LiveCalls
	Now     func() time.Time
	Logger  *slog.Logger
}

// ReconcileResult counts what one run changed.
type ReconcileResult struct {
	Finalised, Abandoned, StillLive int
}

// Run reconciles once. Errors on single rows are logged and counted, not fatal: one bad row
// must not keep the rest from being finished.
func (r *Reconciler) Run(ctx context.Context) (ReconcileResult, error) {
	var res ReconcileResult
	recs, err := r.Store.FindRecordings(ctx, RecordingFilter{States: []RecordingState{RecordingPending, RecordingRecording}})
	if err != nil {
		return res, fmt.Errorf("find live recordings: %w", err)
	}
	for _, rec := range recs {
		if r.Live.Has(rec.CallUUID) {
			res.StillLive++
			continue
		}
		exists, err := r.Control.CallExists(ctx, rec.CallUUID)
		if err != nil {
			return res, fmt.Errorf("ask freeswitch about call: %w", err)
		} else if exists {
			res.StillLive++
			continue
		}
		if err := r.finalise(ctx, rec); err != nil {
			r.Logger.Error("reconcile recording failed", "call", rec.CallUUID, "err", err)
			continue
		}
		res.Finalised++
	}
	calls, err := r.Store.FindCalls(ctx, CallFilter{Decision: DecisionPending})
	if err != nil {
		return res, fmt.Errorf("find pending calls: %w", err)
	}
	for _, c := range calls {
		if r.Live.Has(c.UUID) {
			continue
		}
		if err := r.Store.DecideCall(ctx, c.UUID, DecisionAbandoned, nil); err != nil {
			r.Logger.Error("reconcile pending call failed", "call", c.UUID, "err", err)
			continue
		}
		res.Abandoned++
	}
	return res, nil
}

func (r *Reconciler) finalise(ctx context.Context, rec *Recording) error {
	now := r.Now().UTC()
	to, u := Finalise(rec.Path, now)
	if to == RecordingComplete && rec.State == RecordingPending {
		if err := r.Store.UpdateRecording(ctx, rec.CallUUID, RecordingRecording, RecordingUpdate{}); err != nil {
			return err
		}
	}
	if err := r.Store.UpdateRecording(ctx, rec.CallUUID, to, u); err != nil {
		return err
	}
	return r.Store.EndCall(ctx, rec.CallUUID, now)
}
