package consent_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
)

// panicOnConfirm is a control connection whose ConfirmCall panics, as a bug would, in the
// goroutine that admits a call beside the notice.
type panicOnConfirm struct{ fakeControl }

func (panicOnConfirm) ConfirmCall(context.Context, string, string) error {
	var rec *consent.Recording
	_ = rec.Path // nil pointer dereference
	return nil
}

// A panic in the goroutine that admits a call does not end the process: it is raised again in
// the call's own goroutine, with the stack where it began, where the daemon recovers per call;
// the call's socket is closed (FreeSWITCH's fallback takes the caller), nothing is recorded.
func TestFlowPanicWhileAdmitting(t *testing.T) {
	log := &eventLog{}
	f := newFlow(t, log, newLoggedStore(t, log), io.Discard)
	f.Control = panicOnConfirm{fakeControl{log: log}}
	ch := &fakeChannel{t: t, log: log, plays: restKey("1", 0)}
	err := consent.CatchPanic(func() error { f.Handle(context.Background(), ch); return nil })
	var pe *consent.PanicError
	if !errors.As(err, &pe) || !strings.Contains(pe.Error(), "nil pointer dereference") || !strings.Contains(string(pe.Stack), "panicOnConfirm.ConfirmCall") {
		t.Fatalf("Handle: %v; want the admit goroutine's panic with its stack", err)
	}
	if l := log.list(); slices.Contains(l, "ch:record") || !slices.Contains(l, "ch:close") {
		t.Errorf("events %q: want the socket closed and nothing recorded", l)
	}
	if f.Live.Len() != 0 {
		t.Error("the call is still live")
	}
}
