package consent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Reconciler finishes what a crash, a restart or a lost socket left half-done: recordings
// still marked live whose call FreeSWITCH no longer has are finalised from the file on disk,
// calls still pending with no flow driving them become abandoned (they were never asked to the
// end, so they were never recorded), and decided calls whose end no flow saw get the time
// reconcile learns that FreeSWITCH no longer has them. It runs at start and after every control
// reconnect, and every minute.
type Reconciler struct {
	Store      ReconcileStore
	Control    Control
	Recordings RecordingFiles // the recordings folder, whose files decide a recording's end
	Live       *LiveCalls
	Now        func() time.Time
	Logger     *slog.Logger
	// OnPanic, when set, is told of a panic recovered while one row was reconciled: that row is
	// left as it was (and tried again next run), the others go on. The daemon counts it as an
	// alarm.
	OnPanic func(*PanicError)
	// Page is how many calls without an end one query reads; 0 means 500. A run reads page after
	// page until it has seen them all, so a backlog is finished in one run, in bounded memory.
	Page int
}

// ReconcileResult counts what one run changed.
type ReconcileResult struct {
	Finalised, Abandoned, Ended, StillLive int
	Failed                                 int // rows left as they were after an error or a panic
}

// Run reconciles once. Errors on single rows (also panics) are logged and counted, not fatal:
// one bad row must not keep the rest from being finished.
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
		gone, err := r.gone(ctx, rec.CallUUID)
		if err != nil {
			return res, err
		} else if !gone {
			res.StillLive++
			continue
		}
		if r.row(ctx, "finalise recording", rec.CallUUID, func() error { return r.finalise(ctx, rec) }, &res) {
			res.Finalised++
		}
	}
	n, err := r.abandonPending(ctx, &res)
	res.Abandoned += n
	if err != nil {
		return res, err
	}
	return res, r.endGone(ctx, &res)
}

// AbandonPending marks abandoned every call still pending that no flow here drives, without
// asking FreeSWITCH. The daemon runs it at start, before it takes a call: then every pending
// call was left by the process before, whose sockets died with it, and FreeSWITCH's dialplan
// fallback took those calls on, unrecorded. They need not wait until FreeSWITCH is reachable.
func (r *Reconciler) AbandonPending(ctx context.Context) (ReconcileResult, error) {
	var res ReconcileResult
	n, err := r.abandonPending(ctx, &res)
	res.Abandoned = n
	return res, err
}

func (r *Reconciler) abandonPending(ctx context.Context, res *ReconcileResult) (int, error) {
	calls, err := r.Store.FindCalls(ctx, CallFilter{Decision: DecisionPending})
	if err != nil {
		return 0, fmt.Errorf("find pending calls: %w", err)
	}
	n := 0
	for _, c := range calls {
		if r.Live.Has(c.UUID) {
			continue
		}
		if r.row(ctx, "abandon pending call", c.UUID, func() error { return r.Store.DecideCall(ctx, c.UUID, DecisionAbandoned, nil) }, res) {
			n++
		}
	}
	return n, nil
}

// endGone stamps the end of decided calls whose end no flow saw (the daemon stopped, or the
// call's socket broke, before the hang-up), once FreeSWITCH no longer has them: the time is
// when reconcile learned it, the best there is.
func (r *Reconciler) endGone(ctx context.Context, res *ReconcileResult) error {
	page := r.Page
	if page <= 0 {
		page = 500
	}
	// Calls stamped here leave the filter; the offset skips only those left as they were. The
	// pages are bounded too, should a store keep returning a row it said it stamped.
	for offset, pages := 0, 0; pages < maxEndPages; pages++ {
		calls, err := r.Store.FindCalls(ctx, CallFilter{Unended: true, Limit: page, Offset: offset})
		if err != nil {
			return fmt.Errorf("find calls without an end: %w", err)
		}
		for _, c := range calls {
			if c.Decision == DecisionPending || r.Live.Has(c.UUID) {
				offset++
				continue
			}
			gone, err := r.gone(ctx, c.UUID)
			if err != nil {
				return err
			}
			if gone && r.row(ctx, "stamp call end", c.UUID, func() error { return r.Store.EndCall(ctx, c.UUID, r.Now().UTC()) }, res) {
				res.Ended++
				continue
			}
			offset++
		}
		if len(calls) < page {
			return nil
		}
	}
	return nil // the rest next run
}

// maxEndPages bounds the pages of calls without an end one run reads.
const maxEndPages = 100

// gone asks FreeSWITCH whether it still has the call. An error ends the run: without
// FreeSWITCH's answer nothing more can be settled now.
func (r *Reconciler) gone(ctx context.Context, uuid string) (bool, error) {
	exists, err := r.Control.CallExists(ctx, uuid)
	if err != nil {
		return false, fmt.Errorf("ask freeswitch about call: %w", err)
	}
	return !exists, nil
}

// row runs fn for one row, turning a panic into an error, and reports whether it succeeded. A
// failure is logged and counted; the row stays as it was, for the next run.
func (r *Reconciler) row(ctx context.Context, what, uuid string, fn func() error, res *ReconcileResult) bool {
	err := CatchPanic(fn)
	if err == nil {
		return true
	}
	res.Failed++
	var pe *PanicError
	if !errors.As(err, &pe) {
		r.Logger.Error("reconcile: "+what+" failed; left for the next run", "call", uuid, "err", err)
		return false
	}
	r.Logger.Error("alarm: reconcile: "+what+" panicked; left for the next run", "call", uuid, "err", err, "stack", string(pe.Stack))
	if r.OnPanic != nil {
		r.OnPanic(pe)
	}
	return false
}

func (r *Reconciler) finalise(ctx context.Context, rec *Recording) error {
	now := r.Now().UTC()
	to, u := r.Recordings.Finalise(rec.Path, now, r.Logger.With("call", rec.CallUUID))
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
