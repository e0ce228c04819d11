package consent

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// prepareRecording decides where a granted call will be recorded and claims the right to
// start it. It returns nil when the call was withdrawn meanwhile or the folder cannot be made:
// the grant is then stored without a recording, and nothing is recorded.
func (f *Flow) prepareRecording(uuid string, log *slog.Logger) *Recording {
	now := f.Now().UTC()
	rec := &Recording{CallUUID: uuid, Path: f.Recordings.RecordingPath(uuid, now), State: RecordingPending, StartedAt: now}
	if !f.Live.BeginRecording(uuid, rec.Path) {
		log.Info("consent withdrawn before the recording started; not recording")
		return nil
	}
	// FreeSWITCH would create it 0750, leaving us unable to delete: make it ourselves.
	if err := f.Recordings.MakeFolder(rec.Path); err != nil {
		log.Error("create recording folder failed; not recording", "err", err)
		return nil
	}
	return rec
}

// record starts the recording of a call whose grant and recording row are committed (Grant):
// a crash at any point leaves a row that reconcile or the sweeper can finish, never a file
// without its row. keyAt is when the caller's key was taken.
func (f *Flow) record(ctx context.Context, ch Channel, rec *Recording, keyAt time.Time, log *slog.Logger) {
	if f.Live.Withdrawn(rec.CallUUID) {
		// Withdrawn between the claim and the commit: the withdrawal moved the row on.
		log.Info("consent withdrawn before the recording started; not recording")
		return
	}
	wait := f.StartWait
	if wait == 0 {
		wait = 3 * time.Second
	}
	if f.OnDigitToRecord != nil {
		f.OnDigitToRecord(f.Now().Sub(keyAt))
	}
	err := ch.StartRecording(ctx, rec.Path, wait)
	switch {
	case err == nil:
		f.setState(ctx, rec, RecordingRecording, RecordingUpdate{}, log)
	case errors.Is(err, ErrHungUp):
		// The recording may have started just before the hang-up: end() decides from the file.
		return
	default:
		// Not confirmed: make sure nothing records, then give up on this recording. The caller
		// still goes to an employee, unrecorded.
		log.Error("recording not confirmed; stopping it and continuing unrecorded", "err", err)
		f.stop(ctx, rec, log)
		f.setState(ctx, rec, RecordingFailed, RecordingUpdate{EndedAt: f.Now().UTC()}, log)
		return
	}
	if f.Live.Withdrawn(rec.CallUUID) {
		// A withdrawal raced with the start and may have found nothing to stop yet.
		f.stop(ctx, rec, log)
	}
}

func (f *Flow) stop(ctx context.Context, rec *Recording, log *slog.Logger) {
	if f.Control == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := f.Control.StopRecording(ctx, rec.CallUUID, rec.Path); err != nil {
		log.Error("stop recording failed", "err", err)
	}
}

// setState moves the recording to a new state and keeps the local copy in step. A refused
// transition (the row was withdrawn meanwhile, and is deleting) is logged, not forced.
func (f *Flow) setState(ctx context.Context, rec *Recording, to RecordingState, u RecordingUpdate, log *slog.Logger) bool {
	err := f.write(ctx, func(ctx context.Context) error { return f.Store.UpdateRecording(ctx, rec.CallUUID, to, u) })
	if err != nil {
		log.Warn("recording state not updated", "to", to, "err", err)
		return false
	}
	rec.State = to
	if f.OnRecording != nil {
		f.OnRecording(to)
	}
	return true
}

// end follows the call to its hang-up, stamps its end and finalises the recording from the
// file on disk. If the daemon stops or the channel is lost first, the rows stay as they are
// and reconcile finishes them once the call is gone. A call that reaches MaxCallDuration (ctx's
// deadline) is let go of: its recording is stopped, since a withdrawal could no longer reach
// it, and its rows are finalised as if it had ended then.
func (f *Flow) end(ctx context.Context, ch Channel, call *Call, rec *Recording, log *slog.Logger) {
	_, err := ch.WaitEnd(ctx)
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		log.Warn("call reached max-call-duration: letting go of it, recording stopped, rows finalised",
			"max_call_duration", f.MaxCallDuration.String())
		if rec != nil && rec.State.Live() {
			f.stop(ctx, rec, log)
		}
	default:
		log.Warn("call end not seen; leaving it to reconcile", "err", err)
		return
	}
	ended := f.Now().UTC()
	if err := f.write(ctx, func(ctx context.Context) error { return f.Store.EndCall(ctx, call.UUID, ended) }); err != nil {
		log.Error("store call end failed", "err", err)
	}
	if rec != nil && rec.State.Live() {
		f.finalise(ctx, rec, ended, log)
	}
}

// finalise sets a stopped recording to complete or failed according to the file on disk, and
// makes the file private first (RecordingFiles.Finalise).
func (f *Flow) finalise(ctx context.Context, rec *Recording, ended time.Time, log *slog.Logger) {
	to, u := f.Recordings.Finalise(rec.Path, ended, log)
	if to == RecordingComplete && rec.State == RecordingPending {
		// Hung up before RECORD_START was seen, yet a valid file exists: it did start.
		if !f.setState(ctx, rec, RecordingRecording, RecordingUpdate{}, log) {
			return
		}
	}
	if f.setState(ctx, rec, to, u, log) && to == RecordingFailed {
		log.Warn("recording failed: file missing, empty or unreadable")
	}
}
