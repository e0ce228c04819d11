package esl

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

func TestChannel_ReplyTimeoutClosesConnection(t *testing.T) {
	errc := make(chan error, 1)
	p, done := scriptCall(t, func(s *OutboundServer) { s.CommandTimeout = 200 * time.Millisecond }, func(ctx context.Context, ch consent.Channel) {
		errc <- ch.Answer(ctx)
	})
	p.expect("answer") // and never reply
	if err := <-errc; !errors.Is(err, consent.ErrChannelGone) {
		t.Fatalf("Answer = %v, want ErrChannelGone", err)
	}
	if !p.eofAfter(2 * time.Second) {
		t.Fatal("connection not closed after the reply timeout")
	}
	wait(t, done)
}

func TestChannel_RecordingNotConfirmed(t *testing.T) {
	errc := make(chan error, 1)
	p, done := scriptCall(t, nil, func(ctx context.Context, ch consent.Channel) {
		errc <- ch.StartRecording(ctx, "/rec/a.wav", 200*time.Millisecond)
	})
	cmd := p.expect("record_session")
	p.write(okReply, evFrame("RECORD_START", "Record-File-Path", "/rec/other.wav"), complete(cmd))
	// The unconfirmed recording is stopped, in case it starts after all.
	if cmd := p.expect("stop_record_session"); headerOf(cmd, "execute-app-arg") != "/rec/a.wav" {
		t.Errorf("stop_record_session arg %q", headerOf(cmd, "execute-app-arg"))
	}
	p.write(okReply)
	if err := <-errc; !errors.Is(err, consent.ErrRecordingNotStarted) {
		t.Fatalf("StartRecording = %v", err)
	}
	p.expect("exit")
	wait(t, done)
}

func TestChannel_HangupBeforeRecordStart(t *testing.T) {
	errc := make(chan error, 2)
	p, done := scriptCall(t, nil, func(ctx context.Context, ch consent.Channel) {
		errc <- ch.StartRecording(ctx, "/rec/a.wav", 5*time.Second)
		errc <- ch.Answer(ctx) // every later step refuses at once
	})
	p.expect("record_session")
	p.write(okReply, evFrame("CHANNEL_HANGUP", "Answer-State", "hangup", "Hangup-Cause", "NORMAL_CLEARING"))
	for range 2 {
		if err := <-errc; !errors.Is(err, consent.ErrHungUp) {
			t.Fatalf("got %v, want ErrHungUp", err)
		}
	}
	wait(t, done)
}

// TestChannel_LateHangupEvent: the prompt's EXECUTE_COMPLETE says nothing of a hangup, and
// CHANNEL_HANGUP only follows CHANNEL_HANGUP_COMPLETE (the d2 order, without d2's state stamp).
func TestChannel_LateHangupEvent(t *testing.T) {
	type result struct {
		res consent.PromptResult
		err error
		end consent.CallEnd
	}
	out := make(chan result, 1)
	p, done := scriptCall(t, nil, func(ctx context.Context, ch consent.Channel) {
		var r result
		r.res, r.err = ch.Prompt(ctx, consentPrompt)
		r.end, _ = ch.WaitEnd(ctx)
		out <- r
	})
	cmd := p.expect("play_and_get_digits")
	p.write(okReply, complete(cmd))
	time.Sleep(50 * time.Millisecond)
	p.write(evFrame("CHANNEL_HANGUP_COMPLETE", "Hangup-Cause", "NORMAL_CLEARING"), evFrame("CHANNEL_HANGUP"))
	r := <-out
	if !errors.Is(r.err, consent.ErrHungUp) || r.end.HangupCause != "NORMAL_CLEARING" {
		t.Fatalf("Prompt = %+v %v, WaitEnd = %+v", r.res, r.err, r.end)
	}
	wait(t, done)
}

func TestChannel_RecordStopOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stop  bool
		delay time.Duration
	}{
		{name: "before hangup complete", stop: true},
		{name: "after hangup complete", stop: true, delay: 50 * time.Millisecond},
		{name: "never", stop: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := make(chan consent.CallEnd, 1)
			p, done := scriptCall(t, nil, func(ctx context.Context, ch consent.Channel) {
				must(t, ch.StartRecording(ctx, "/rec/a.wav", time.Second))
				end, err := ch.WaitEnd(ctx)
				must(t, err)
				out <- end
			})
			cmd := p.expect("record_session")
			p.write(okReply, evFrame("RECORD_START", "Record-File-Path", "/rec/a.wav"), complete(cmd))
			stop := evFrame("RECORD_STOP", "Record-File-Path", "/rec/a.wav", "variable_record_ms", "1200",
				"variable_record_file_size", "38444", "Record-Completion-Cause", "success-silence")
			if tc.stop && tc.delay == 0 {
				p.write(stop)
			}
			p.write(evFrame("CHANNEL_HANGUP_COMPLETE", "Answer-State", "hangup", "Hangup-Cause", "USER_BUSY"))
			if tc.stop && tc.delay > 0 {
				time.Sleep(tc.delay)
				p.write(stop)
			}
			end := <-out
			if end.HangupCause != "USER_BUSY" || (end.Record != nil) != tc.stop {
				t.Fatalf("WaitEnd = %+v", end)
			}
			if tc.stop && (end.Record.DurationMS != 1200 || end.Record.Bytes != 38444) {
				t.Errorf("RecordStop = %+v", end.Record)
			}
			wait(t, done)
		})
	}
}

// TestChannel_ContextAbandonsReply: a command whose caller gave up leaves a reply behind; it
// must not be taken for the reply of the next command.
func TestChannel_ContextAbandonsReply(t *testing.T) {
	errc := make(chan error, 2)
	p, done := scriptCall(t, nil, func(ctx context.Context, ch consent.Channel) {
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		errc <- ch.Answer(short)
		cancel()
		errc <- ch.Transfer(ctx, "6000 XML default")
	})
	p.expect("answer")
	if err := <-errc; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Answer = %v, want DeadlineExceeded", err)
	}
	p.write("Content-Type: command/reply\nReply-Text: -ERR late\n\n") // the abandoned reply
	cmd := p.expect("transfer")
	p.write(okReply, complete(cmd))
	if err := <-errc; err != nil {
		t.Fatalf("Transfer = %v", err)
	}
	wait(t, done)
}

// TestChannel_OddConnectReply: header keys textproto rejects and bad % escapes (eslgo bug 7).
func TestChannel_OddConnectReply(t *testing.T) {
	out := make(chan [3]string, 1)
	done := make(chan struct{})
	s := startServer(t, func(ctx context.Context, ch consent.Channel) {
		defer close(done)
		out <- [3]string{ch.Variable("sip_h_X[1]"), ch.Variable("bad_pct"), ch.Variable("sip/ü")}
	})
	odd := strings.Replace(connectReply(t), "Content-Type: command/reply\n",
		"variable_sip_h_X[1]: a%20b\nvariable_bad_pct: 100%25%zz%4\nvariable_sip/ü: x\nContent-Type: command/reply\n", 1)
	dialScript(t, s, odd)
	got := <-out
	if got != [3]string{"a b", "100%%zz%4", "x"} {
		t.Fatalf("Variables = %q", got)
	}
	wait(t, done)
}

// TestChannel_CancelledCtxWritesNothing: a ctx already ended (daemon shutdown between the grant
// and the next step) means the command is not written at all; only the exit of Close follows.
func TestChannel_CancelledCtxWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		step func(ctx context.Context, ch consent.Channel) error
	}{
		{"StartRecording", func(ctx context.Context, ch consent.Channel) error {
			return ch.StartRecording(ctx, "/rec/a.wav", time.Second)
		}},
		{"Answer", func(ctx context.Context, ch consent.Channel) error { return ch.Answer(ctx) }},
		{"Transfer", func(ctx context.Context, ch consent.Channel) error { return ch.Transfer(ctx, "1000 XML default") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errc := make(chan error, 1)
			p, done := scriptCall(t, nil, func(ctx context.Context, ch consent.Channel) {
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				errc <- tc.step(cctx, ch)
			})
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("%s = %v, want context.Canceled", tc.name, err)
			}
			p.expect("exit") // the first command the peer sees
			p.write(okReply)
			wait(t, done)
		})
	}
}

// TestChannel_StartRecordingCtxEndStopsRecording: once record_session may have reached
// FreeSWITCH, a ctx that ends before RECORD_START (shutdown, or the caller's deadline) leaves no
// recording running: the next command is stop_record_session for that path, sent although the
// caller's ctx is over.
func TestChannel_StartRecordingCtxEndStopsRecording(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline bool // the ctx ends by its deadline instead of a cancel
		replyOK  bool // the +OK of the sendmsg arrives before the ctx ends
	}{
		{name: "cancelled awaiting reply"},
		{name: "deadline awaiting reply", deadline: true},
		{name: "cancelled awaiting RECORD_START", replyOK: true},
		{name: "deadline awaiting RECORD_START", deadline: true, replyOK: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errc := make(chan error, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.deadline {
				ctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
			}
			p, done := scriptCall(t, nil, func(_ context.Context, ch consent.Channel) {
				errc <- ch.StartRecording(ctx, "/rec/a.wav", 5*time.Second)
			})
			cmd := p.expect("record_session")
			if tc.replyOK {
				p.write(okReply)
				time.Sleep(50 * time.Millisecond) // the reply is taken before the ctx ends
			}
			if !tc.deadline {
				cancel()
			}
			stopCmd := p.expect("stop_record_session")
			if arg := headerOf(stopCmd, "execute-app-arg"); arg != "/rec/a.wav" {
				t.Errorf("stop_record_session arg %q", arg)
			}
			if !tc.replyOK {
				p.write(okReply) // the late reply to record_session, discarded
			}
			p.write(okReply, complete(cmd))
			want := context.Canceled
			if tc.deadline {
				want = context.DeadlineExceeded
			}
			if err := <-errc; !errors.Is(err, want) {
				t.Fatalf("StartRecording = %v, want %v", err, want)
			}
			p.expect("exit")
			p.write(okReply)
			wait(t, done)
		})
	}
}
