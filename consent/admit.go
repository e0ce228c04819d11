package consent

import (
	"context"
	"errors"
	"time"
)

// confirmRetry is how often admit asks again while the control connection is down.
const confirmRetry = 250 * time.Millisecond

// admission is admit's result: err is set before done is closed.
type admission struct {
	done chan struct{}
	err  error
}

// admit confirms a call, in parallel with the notice so that the caller does not wait for it:
// it asks FreeSWITCH over the authenticated control connection whether the call is a live
// channel with this caller (any local account can connect to our outbound port and pretend to
// be FreeSWITCH handing us a call). Only a confirmed call's decision is stored. Until ctx
// ends it asks again while the control connection is down. A call FreeSWITCH denies calls
// refuted at once, so that an impostor does not hold the flow for a whole notice. A panic in
// this goroutine would end the process: it is caught and raised again by admitted, in the
// call's own goroutine, where the daemon recovers from it per call.
func (f *Flow) admit(ctx context.Context, ch Channel, refuted func()) *admission {
	a := &admission{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.err = CatchPanic(func() error {
			err := f.confirm(ctx, ch)
			if errors.Is(err, ErrNotLiveCall) {
				refuted()
			}
			return err
		})
	}()
	return a
}

func (f *Flow) confirm(ctx context.Context, ch Channel) error {
	if f.Control == nil {
		return nil // tests of the flow alone
	}
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f.Control.ConfirmCall(actx, ch.UUID(), ch.CallerNumber())
		cancel()
		if err == nil || errors.Is(err, ErrNotLiveCall) || ErrorCode(err) == EINVALID {
			return err
		}
		select { // not ready, or no answer: the call may well be real, ask again
		case <-ctx.Done():
			return errors.Join(ErrNotConfirmed, err)
		case <-time.After(confirmRetry):
		}
	}
}

// ErrNotConfirmed means FreeSWITCH could not be asked whether a call is real before the
// decision was due (the control connection was down all along).
var ErrNotConfirmed = Errorf(EINTERNAL, "call not confirmed by freeswitch in time")

// admitted waits for admit's result, at most StoreWait once the caller's choice is known, and
// then stops it.
func (f *Flow) admitted(a *admission, stop context.CancelFunc) error {
	defer stop()
	wait := f.StoreWait
	if wait == 0 {
		wait = 5 * time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-a.done:
	case <-t.C:
		stop()
		<-a.done
	}
	var pe *PanicError
	if errors.As(a.err, &pe) {
		panic(pe) // admit's panic, in the call's goroutine (see admit)
	}
	return a.err
}
