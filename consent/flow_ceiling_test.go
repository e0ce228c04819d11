package consent_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// endlessChannel is a call that never ends: FreeSWITCH (or whoever holds the socket) never
// reports its hang-up.
type endlessChannel struct{ *fakeChannel }

func (c endlessChannel) WaitEnd(ctx context.Context) (consent.CallEnd, error) {
	c.log.add("ch:end")
	<-ctx.Done()
	return consent.CallEnd{}, ctx.Err()
}

// TestFlowMaxCallDuration: a call still up at MaxCallDuration is let go of (issue 8, item 3):
// Handle returns, the recording is stopped (a withdrawal could no longer reach the call), and
// the call's end and the recording's final state are stored as of then, instead of a handler
// and open rows that stay for as long as the peer keeps the socket.
func TestFlowMaxCallDuration(t *testing.T) {
	log := &eventLog{}
	store := newLoggedStore(t, log)
	var logs bytes.Buffer
	f := newFlow(t, log, store, &logs)
	f.MaxCallDuration = 300 * time.Millisecond
	ch := endlessChannel{&fakeChannel{t: t, log: log, plays: restKey("1", time.Second), wav: true}}

	done := make(chan struct{})
	began := time.Now()
	go func() { defer close(done); f.Handle(context.Background(), ch) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Handle still waiting for the end of a call 3 s past its MaxCallDuration of 300ms")
	}
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Errorf("let go after %s, before MaxCallDuration", d)
	}
	want := []string{"ch:answer", "ch:flush", "ch:play", "ch:play", "store:decide:granted", "store:recording:pending", "ch:record",
		"ch:transfer:6000 XML default", "ch:end", "ctl:stop", "store:end", "store:recording:complete", "ch:close"}
	if got := inOrder(log.list()); !slices.Equal(got, want) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	c, err := store.FindCall(context.Background(), testUUID)
	if err != nil {
		t.Fatal(err)
	}
	if c.EndedAt.IsZero() || c.Recording == nil || c.Recording.State != consent.RecordingComplete || f.Live.Has(testUUID) {
		t.Errorf("call %+v, recording %+v, live %v: want ended, recording complete, not live", c, c.Recording, f.Live.Has(testUUID))
	}
	if !strings.Contains(logs.String(), "max-call-duration") {
		t.Errorf("no log line says why the call was let go of:\n%s", logs.String())
	}
}

// TestFlowMaxCallDurationDuringNotice: the ceiling bounds the notice too: a step that never
// returns ends at MaxCallDuration with decision error, and the caller is still transferred.
func TestFlowMaxCallDurationDuringNotice(t *testing.T) {
	log := &eventLog{}
	store := newLoggedStore(t, log)
	f := newFlow(t, log, store, &bytes.Buffer{})
	f.MaxCallDuration = 300 * time.Millisecond
	ch := stuckPlayChannel{endlessChannel{&fakeChannel{t: t, log: log}}}
	done := make(chan struct{})
	go func() { defer close(done); f.Handle(context.Background(), ch) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Handle still in a playback 3 s past MaxCallDuration")
	}
	c, err := store.FindCall(context.Background(), testUUID)
	if err != nil || c.Decision != consent.DecisionError || c.EndedAt.IsZero() || !slices.Contains(log.list(), "ch:transfer:6000 XML default") {
		t.Fatalf("call %+v (%v), events %q: want decision error, ended, transferred", c, err, log.list())
	}
}

// stuckPlayChannel plays until its ctx ends.
type stuckPlayChannel struct{ endlessChannel }

func (c stuckPlayChannel) Play(ctx context.Context, _ consent.Playback) (consent.Played, error) {
	c.log.add("ch:play")
	<-ctx.Done()
	return consent.Played{}, ctx.Err()
}
