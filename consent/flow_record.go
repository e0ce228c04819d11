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

// record starts the recording of a call whose grant and recording row are committed
// (StoreGrant): a crash at any point leaves a row that reconcile or the sweeper can finish, never
// a file without its row. What happens to the recording from here (started, or not confirmed)
// is kept in rec and committed with the call's end (end): a crash before that leaves the row
// pending, and reconcile decides from the file. keyAt is when the caller's key was taken.
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
		f.started(rec)
	case errors.Is(err, ErrHungUp):
		// The recording may have started just before the hang-up: end() decides from the file.
		return
	default:
		// Not confirmed: make sure nothing records, then give up on this recording. The caller
		// still goes to an employee, unrecorded.
		log.Error("recording not confirmed; stopping it and continuing unrecorded", "err", err)
		f.stop(ctx, rec, log)
		rec.State, rec.EndedAt = RecordingFailed, f.Now().UTC()
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

// started notes that FreeSWITCH confirmed the recording's start; the row learns it with the
// call's end.
func (f *Flow) started(rec *Recording) {
	rec.State = RecordingRecording
	if f.OnRecording != nil {
		f.OnRecording(RecordingRecording)
	}
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
	var fin *RecordingEnd
	if rec != nil {
		fin = f.recordingEnd(rec, ended, log)
	}
	var state RecordingState
	err = f.write(ctx, func(ctx context.Context) (err error) {
		state, err = f.Store.FinishCall(ctx, call.UUID, ended, fin)
		return err
	})
	switch {
	case err != nil:
		log.Error("store call end failed; leaving it to reconcile", "err", err)
	case fin == nil:
	case state != fin.State:
		log.Info("recording not finalised: consent was withdrawn meanwhile", "state", state)
	default:
		rec.State = state
		if f.OnRecording != nil {
			f.OnRecording(state)
		}
		if state == RecordingFailed {
			log.Warn("recording failed: not confirmed, or the file is missing, empty or unreadable")
		}
	}
}

// recordingEnd decides how a recording ended: failed when FreeSWITCH did not confirm its start,
// else from the file on disk, which is made private first (RecordingFiles.Finalise).
func (f *Flow) recordingEnd(rec *Recording, ended time.Time, log *slog.Logger) *RecordingEnd {
	if rec.State == RecordingFailed {
		return &RecordingEnd{State: RecordingFailed, RecordingUpdate: RecordingUpdate{EndedAt: rec.EndedAt}}
	}
	to, u := f.Recordings.Finalise(rec.Path, ended, log)
	if to == RecordingComplete && rec.State == RecordingPending {
		// Hung up before RECORD_START was seen, yet a valid file exists: it did start.
		f.started(rec)
	}
	return &RecordingEnd{State: to, RecordingUpdate: u}
}
