package esl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Tests of the bounds a call's peer cannot stretch (issue 8, items 3 and 4): no wait on an
// application that completes at once outlives AppTimeout, and no event grows a call's state.

// stallingPeer answers every command (and every liveness probe) at once but completes no
// application: the hostile peer of issue 8, which kept a call's goroutines forever.
func stallingPeer(p *script) <-chan string {
	apps := make(chan string, 16)
	go func() {
		defer close(apps)
		for {
			cmd, err := readCommand(p.br)
			if err != nil {
				return
			}
			reply := okReply
			if cmd == "api status" {
				reply = "Content-Type: api/response\nContent-Length: 3\n\nUP\n"
			} else if app := headerOf(cmd, "execute-app-name"); app != "" {
				select {
				case apps <- app:
				default:
				}
			}
			if _, err := p.nc.Write([]byte(reply)); err != nil {
				return
			}
		}
	}()
	return apps
}

// TestChannel_AppNeverCompletes: answer, flush_dtmf and transfer that FreeSWITCH acknowledges
// but never completes end with ErrChannelGone after AppTimeout, and the socket is closed
// (FreeSWITCH's dialplan fallback takes the call on), although the peer answers every probe.
func TestChannel_AppNeverCompletes(t *testing.T) {
	for _, tc := range []struct {
		app  string
		step func(ctx context.Context, ch consent.Channel) error
	}{
		{"answer", func(ctx context.Context, ch consent.Channel) error { return ch.Answer(ctx) }},
		{"flush_dtmf", func(ctx context.Context, ch consent.Channel) error { return ch.FlushDTMF(ctx) }},
		{"transfer", func(ctx context.Context, ch consent.Channel) error { return ch.Transfer(ctx, "6000 XML default") }},
	} {
		t.Run(tc.app, func(t *testing.T) {
			errc := make(chan error, 1)
			began := time.Now()
			p, done := scriptCall(t, func(s *OutboundServer) {
				s.AppTimeout = 300 * time.Millisecond
				s.LivenessInterval = 50 * time.Millisecond
			}, func(ctx context.Context, ch consent.Channel) { errc <- tc.step(ctx, ch) })
			apps := stallingPeer(p)
			select {
			case err := <-errc:
				if !errors.Is(err, consent.ErrChannelGone) {
					t.Fatalf("%s = %v, want ErrChannelGone", tc.app, err)
				}
				if d := time.Since(began); d < 300*time.Millisecond || d > 2*time.Second {
					t.Errorf("gave up after %s, want about the AppTimeout of 300ms", d)
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("%s still waiting after 3 s on a peer that never completes it", tc.app)
			}
			if app := <-apps; app != tc.app {
				t.Errorf("peer saw %q", app)
			}
			wait(t, done)
			for range apps { // the socket is closed: the peer's reader ends
			}
		})
	}
}

// TestChannel_RecordEventsOfOtherPaths: RECORD_START and RECORD_STOP for paths this call did
// not record are ignored and kept nowhere (a peer once grew two maps without bound with
// them); the call's own recording is still confirmed and reported.
func TestChannel_RecordEventsOfOtherPaths(t *testing.T) {
	const path = "/rec/a.wav"
	out := make(chan consent.CallEnd, 1)
	var chv *channel
	p, done := scriptCall(t, nil, func(ctx context.Context, ch consent.Channel) {
		chv = ch.(*channel)
		must(t, ch.StartRecording(ctx, path, time.Second))
		end, err := ch.WaitEnd(ctx)
		must(t, err)
		out <- end
	})
	cmd := p.expect("record_session")
	p.write(okReply, evFrame("RECORD_START", "Record-File-Path", path), complete(cmd))
	var storm strings.Builder
	for i := range 20000 {
		other := fmt.Sprintf("/rec/other-%d.wav", i)
		storm.WriteString(evFrame("RECORD_START", "Record-File-Path", other))
		storm.WriteString(evFrame("RECORD_STOP", "Record-File-Path", other, "variable_record_ms", "1"))
	}
	p.write(storm.String())
	p.write(evFrame("RECORD_STOP", "Record-File-Path", path, "variable_record_ms", "1200"),
		evFrame("CHANNEL_HANGUP_COMPLETE", "Answer-State", "hangup", "Hangup-Cause", "NORMAL_CLEARING"))
	end := <-out
	if end.Record == nil || end.Record.Path != path || end.Record.DurationMS != 1200 {
		t.Fatalf("WaitEnd = %+v, record %+v", end, end.Record)
	}
	if n := recordingEntries(chv); n != 1 {
		t.Errorf("the channel keeps %d recordings after 40,000 events for other paths, want 1", n)
	}
	wait(t, done)
}
