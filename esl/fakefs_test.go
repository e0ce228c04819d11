package esl

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
)

// These tests run the whole consent flow against esl/fakefs, the wire-faithful fake
// FreeSWITCH, with real timing (media ticks, scripted caller) instead of replayed bytes.

func startFakeFS(t *testing.T) *fakefs.Server {
	t.Helper()
	fs := fakefs.New(fakefs.Config{
		RecordingsDir:      t.TempDir(),
		FixedMediaDuration: 100 * time.Millisecond,
		HeartbeatInterval:  50 * time.Millisecond,
		Logger:             testLogger(t),
	})
	must(t, fs.Open(context.Background()))
	t.Cleanup(func() { fs.Close() })
	return fs
}

type flowResult struct {
	prompt  consent.PromptResult
	err     error // first error of the flow
	end     consent.CallEnd
	stopped StopResult
}

// consentFlow is the daemon's flow in small: answer, flush, prompt, record on 1, transfer,
// and (with withdraw) stop the recording through the control connection while the call is up.
func consentFlow(ctl *Control, dir string, withdraw bool, out chan<- flowResult) func(context.Context, consent.Channel) {
	return func(ctx context.Context, ch consent.Channel) {
		var r flowResult
		defer func() { out <- r }()
		if r.err = ch.Answer(ctx); r.err != nil {
			return
		}
		if r.err = ch.FlushDTMF(ctx); r.err != nil {
			return
		}
		if r.prompt, r.err = ch.Prompt(ctx, consent.Prompt{File: "/notice.wav", Tries: 2, Timeout: 300 * time.Millisecond, Regexp: "^[12]$", Variable: "consent_digit"}); r.err != nil {
			return
		}
		path := filepath.Join(dir, ch.UUID()+".wav")
		if r.prompt.Digit == "1" {
			if r.err = ch.StartRecording(ctx, path, time.Second); r.err != nil {
				return
			}
		}
		if r.err = ch.Transfer(ctx, "6000 XML default"); r.err != nil {
			return
		}
		if withdraw {
			r.stopped, r.err = ctl.StopRecordingDetail(ctx, ch.UUID(), path)
		}
		r.end, _ = ch.WaitEnd(ctx)
	}
}

func TestFakeFS_ConsentFlow(t *testing.T) {
	fs := startFakeFS(t)
	ctl := newTestControl(t, fs.Addr(), "ClueCon")
	must(t, ctl.Open(context.Background()))
	t.Cleanup(func() { ctl.Close() })
	waitFor(t, "control ready", ctl.Ready)

	for _, tc := range []struct {
		name     string
		script   []fakefs.Step
		withdraw bool
		digit    string
		wantErr  error
		stopped  StopResult
		record   bool
		failRec  bool
	}{
		{name: "consent", script: []fakefs.Step{fakefs.Press(fakefs.AtPrompt, 20*time.Millisecond, "1")}, digit: "1", record: true},
		{name: "decline", script: []fakefs.Step{fakefs.Press(fakefs.AtPrompt, 20*time.Millisecond, "2")}, digit: "2"},
		{name: "no input"},
		{name: "hangup in prompt", script: []fakefs.Step{fakefs.HangUp(fakefs.AtPrompt, 20*time.Millisecond)}, wantErr: consent.ErrHungUp},
		{name: "record fails", script: []fakefs.Step{fakefs.Press(fakefs.AtPrompt, 20*time.Millisecond, "1")}, failRec: true, digit: "1", wantErr: consent.ErrRecordingNotStarted},
		{name: "withdraw", script: []fakefs.Step{fakefs.Press(fakefs.AtPrompt, 20*time.Millisecond, "1")}, withdraw: true, digit: "1", stopped: StopStopped, record: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := make(chan flowResult, 1)
			srv := startServer(t, consentFlow(ctl, t.TempDir(), tc.withdraw, out))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := fs.Call(ctx, srv.Addr().String(), fakefs.CallSpec{Script: tc.script, HangupAfterTransfer: 200 * time.Millisecond, FailRecordSession: tc.failRec, MaxDuration: 5 * time.Second})
			if err != nil {
				t.Fatalf("fakefs call: %v", err)
			}
			r := <-out
			if !errors.Is(r.err, tc.wantErr) || r.prompt.Digit != tc.digit || r.stopped != tc.stopped {
				t.Fatalf("flow = %+v, want digit %q err %v stopped %v", r, tc.digit, tc.wantErr, tc.stopped)
			}
			if tc.wantErr == nil && (r.end.HangupCause == "" || (r.end.Record != nil) != tc.record) {
				t.Errorf("WaitEnd = %+v (record %+v)", r.end, r.end.Record)
			}
			if !res.ExitByDaemon {
				t.Error("the socket was not closed with exit")
			}
		})
	}
}

// TestFakeFS_ControlDropped: FreeSWITCH drops the control connection; the supervisor
// reconnects and runs OnConnect again.
func TestFakeFS_ControlDropped(t *testing.T) {
	fs := startFakeFS(t)
	ctl := newTestControl(t, fs.Addr(), "ClueCon")
	connects := make(chan struct{}, 10)
	ctl.OnConnect = func(context.Context) { connects <- struct{}{} }
	must(t, ctl.Open(context.Background()))
	t.Cleanup(func() { ctl.Close() })
	for i := range 3 {
		select {
		case <-connects:
		case <-time.After(5 * time.Second):
			t.Fatalf("connect %d missing", i+1)
		}
		waitFor(t, "ready", ctl.Ready)
		fs.DropInbound()
	}
}
