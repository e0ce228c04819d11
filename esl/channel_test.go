package esl

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// consentPrompt is the prompt of the transcripts (3 tries, 5 s, ^[12]$).
var consentPrompt = consent.Prompt{
	File:     "tone_stream://%(3000,0,600)",
	Tries:    3,
	Timeout:  5 * time.Second,
	Regexp:   "^[12]$",
	Variable: "consent_digit",
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer runs an OutboundServer on a free port with short test timeouts.
func startServer(t testing.TB, handler func(context.Context, consent.Channel)) *OutboundServer {
	t.Helper()
	s := NewOutboundServer("127.0.0.1:0", handler, testLogger(t))
	s.CommandTimeout = 2 * time.Second
	s.RecordStopGrace = 200 * time.Millisecond
	s.ShutdownTimeout = 2 * time.Second
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runReplay hands the transcript's call to flow through a real OutboundServer and waits for
// the handler and the peer to finish.
func runReplay(t *testing.T, name string, flow func(ctx context.Context, ch consent.Channel)) *replay {
	t.Helper()
	done := make(chan struct{})
	s := startServer(t, func(ctx context.Context, ch consent.Channel) {
		defer close(done)
		flow(ctx, ch)
	})
	r := loadReplay(t, name+"-outbound", matchOutbound)
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peerDone := make(chan struct{})
	go func() { defer close(peerDone); r.serve(nc, false) }()
	for _, c := range []chan struct{}{done, peerDone} {
		select {
		case <-c:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: call did not finish; sent %q", name, r.commands())
		}
	}
	return r
}

func TestChannel_Consent(t *testing.T) {
	const path = "/var/lib/freeswitch/recordings/2026-11-26/260cc426-4b20-4054-b379-5ba800345a1c.wav"
	var end consent.CallEnd
	r := runReplay(t, "a-consent", func(ctx context.Context, ch consent.Channel) {
		if got := ch.UUID(); got != "260cc426-4b20-4054-b379-5ba800345a1c" {
			t.Errorf("UUID = %q", got)
		}
		if got := ch.CallerNumber(); got != "+4791234567" {
			t.Errorf("CallerNumber = %q", got)
		}
		if got := ch.Variable("origination_caller_id_name"); got != "Kari Nordmann" {
			t.Errorf("Variable = %q", got)
		}
		must(t, ch.Answer(ctx))
		res, err := ch.Prompt(ctx, consentPrompt)
		must(t, err)
		if res.Digit != "1" || res.Invalid != "" {
			t.Errorf("Prompt = %+v", res)
		}
		must(t, ch.StartRecording(ctx, path, time.Second))
		must(t, ch.Transfer(ctx, "6000 XML default"))
		end, err = ch.WaitEnd(ctx)
		must(t, err)
	})
	want := consent.RecordStop{Path: path, DurationMS: 5000, Bytes: 160044, Cause: "success-silence"}
	if end.HangupCause != "NORMAL_CLEARING" || end.Record == nil || *end.Record != want {
		t.Errorf("WaitEnd = %+v %+v", end, end.Record)
	}
	cmds := r.commands()
	if last := cmds[len(cmds)-1]; last != "exit" {
		t.Errorf("last command %q, want exit", last)
	}
	for _, c := range cmds {
		if strings.HasPrefix(c, "sendmsg") && headerOf(c, "Event-UUID") == "" {
			t.Errorf("sendmsg without Event-UUID: %q", c)
		}
		if app := headerOf(c, "execute-app-name"); app == "record_session" &&
			headerOf(c, "execute-app-arg") != path+" {RECORD_STEREO=true,RECORD_MIN_SEC=1}" {
			t.Errorf("record_session arg %q", headerOf(c, "execute-app-arg"))
		}
	}
	if cmds[1] != "linger 30" || cmds[2] != "myevents plain" || cmds[3] != "event plain RECORD_START RECORD_STOP" {
		t.Errorf("setup commands %q", cmds[:4])
	}
}

func TestChannel_Prompt(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flush     bool
		want      consent.PromptResult
		wantErr   error
		wantCause string
	}{
		// KeyAfter is FreeSWITCH's own account: DTMF stamp minus the prompt's CHANNEL_EXECUTE stamp.
		{name: "b-decline", want: consent.PromptResult{Digit: "2", KeyAfter: 1000009 * time.Microsecond}},
		{name: "c-no-input", want: consent.PromptResult{KeyAfter: -1}},
		{name: "f-invalid-then-consent", want: consent.PromptResult{Digit: "1", Invalid: "3", KeyAfter: 1000044 * time.Microsecond}},
		{name: "g2-early-digit-flush-dtmf", flush: true, want: consent.PromptResult{KeyAfter: -1}},
		{name: "d-hangup-during-prompt", wantErr: consent.ErrHungUp},
		{name: "d2-hangup-during-prompt-late-hangup-event", wantErr: consent.ErrHungUp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runReplay(t, tc.name, func(ctx context.Context, ch consent.Channel) {
				must(t, ch.Answer(ctx))
				if tc.flush {
					must(t, ch.FlushDTMF(ctx))
				}
				res, err := ch.Prompt(ctx, consentPrompt)
				if !errors.Is(err, tc.wantErr) || res != tc.want {
					t.Errorf("Prompt = %+v, %v; want %+v, %v", res, err, tc.want, tc.wantErr)
				}
				if err == nil {
					must(t, ch.Transfer(ctx, "6000 XML default"))
				} else if err := ch.Transfer(ctx, "6000 XML default"); !errors.Is(err, consent.ErrHungUp) {
					t.Errorf("Transfer after hangup = %v", err)
				}
				end, err := ch.WaitEnd(ctx)
				must(t, err)
				if end.HangupCause != "NORMAL_CLEARING" || end.Record != nil {
					t.Errorf("WaitEnd = %+v", end)
				}
			})
		})
	}
}

// A key the caller sent right at answer reached FreeSWITCH after flush_dtmf and was taken by
// the first play_and_get_digits before one sample of the notice played (l: the prompt's
// CHANNEL_EXECUTE, the DTMF and its success carry the same timestamp; l2: three media ticks
// later). The channel reports it as FreeSWITCH did: a success whose key came 0 or 60 ms into the
// prompt; this is why the flow never takes a key from a prompt that starts the notice.
func TestChannel_KeyAtAnswer(t *testing.T) {
	for name, after := range map[string]time.Duration{"l-key-at-answer": 0, "l2-key-at-answer": 60 * time.Millisecond} {
		t.Run(name, func(t *testing.T) {
			runReplay(t, name, func(ctx context.Context, ch consent.Channel) {
				must(t, ch.Answer(ctx))
				must(t, ch.FlushDTMF(ctx))
				res, err := ch.Prompt(ctx, consent.Prompt{File: "/srv/fsx/rec/t/notice.wav", InvalidFile: "/srv/fsx/rec/t/invalid.wav",
					Tries: 1, Timeout: 2 * time.Second, Regexp: "^[12]$", Variable: "consent_digit"})
				must(t, err)
				if res.Digit != "1" || res.KeyAfter.Round(10*time.Millisecond) != after {
					t.Errorf("Prompt = %+v, want the key 1 after %s", res, after)
				}
			})
		})
	}
}

// TestChannel_WithdrawnRecording: the recording was stopped by uuid_record on the control
// connection while the call was up; RECORD_STOP (success-maxtime) comes before the hangup.
func TestChannel_WithdrawnRecording(t *testing.T) {
	const path = "/var/lib/freeswitch/recordings/2026-11-26/928bf071-a72d-4d37-b54a-2eac106b3e6b.wav"
	runReplay(t, "h-withdraw-live", func(ctx context.Context, ch consent.Channel) {
		must(t, ch.Answer(ctx))
		_, err := ch.Prompt(ctx, consentPrompt)
		must(t, err)
		must(t, ch.StartRecording(ctx, path, time.Second))
		must(t, ch.Transfer(ctx, "6000 XML default"))
		end, err := ch.WaitEnd(ctx)
		must(t, err)
		if end.Record == nil || end.Record.Cause != "success-maxtime" || end.Record.DurationMS != 2020 {
			t.Errorf("WaitEnd = %+v %+v", end, end.Record)
		}
	})
}

// must stops a call flow on an error. Flows run on handler goroutines, where t.Fatal is not
// allowed: it reports and panics, and the server's handler recovery ends the flow.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		panic("test flow aborted")
	}
}
