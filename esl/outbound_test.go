package esl

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

func TestChannel_UnknownContentTypeSkipped(t *testing.T) {
	errc := make(chan error, 1)
	p, done := scriptCall(t, nil, func(ctx context.Context, ch consent.Channel) { errc <- ch.Answer(ctx) })
	cmd := p.expect("answer")
	// eslgo's reader dies silently on a content type it does not know (bug 3); ours skips it.
	p.write("Content-Type: log/data\nContent-Length: 5\n\nhello", okReply, complete(cmd))
	if err := <-errc; err != nil {
		t.Fatalf("Answer = %v", err)
	}
	wait(t, done)
}

func TestChannel_BadContentLength(t *testing.T) {
	for _, cl := range []string{"-1", "99999999999999999999", "12x", "17179869184"} {
		t.Run(cl, func(t *testing.T) {
			errc := make(chan error, 1)
			p, done := scriptCall(t, nil, func(ctx context.Context, ch consent.Channel) { errc <- ch.Answer(ctx) })
			p.expect("answer")
			// eslgo panics on a negative length and allocates whatever a huge one asks (bug 6).
			p.write("Content-Type: command/reply\nContent-Length: " + cl + "\n\n")
			if err := <-errc; !errors.Is(err, consent.ErrChannelGone) {
				t.Fatalf("Answer = %v, want ErrChannelGone", err)
			}
			wait(t, done)
		})
	}
}

// TestChannel_SilentPeerDetected: FreeSWITCH stops in the middle of a message and keeps the
// socket open. Nothing fails by itself; the liveness probe must end the wait.
func TestChannel_SilentPeerDetected(t *testing.T) {
	errc := make(chan error, 1)
	p, done := scriptCall(t, func(s *OutboundServer) {
		s.LivenessInterval = 100 * time.Millisecond
		s.CommandTimeout = 200 * time.Millisecond
	}, func(ctx context.Context, ch consent.Channel) {
		_, err := ch.WaitEnd(ctx)
		errc <- err
	})
	p.write("Content-Length: 100\nContent-Type: text/event-plain\n\nEvent-Name: CHANNEL_HANG")
	select {
	case err := <-errc:
		if !errors.Is(err, consent.ErrChannelGone) {
			t.Fatalf("WaitEnd = %v, want ErrChannelGone", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("WaitEnd still waiting on a dead peer")
	}
	wait(t, done)
}

// TestChannel_QuietPeerKeptAlive: a quiet but healthy peer answers the probe and the call goes on.
func TestChannel_QuietPeerKeptAlive(t *testing.T) {
	errc := make(chan error, 1)
	p, done := scriptCall(t, func(s *OutboundServer) { s.LivenessInterval = 100 * time.Millisecond }, func(ctx context.Context, ch consent.Channel) {
		_, err := ch.WaitEnd(ctx)
		errc <- err
	})
	for range 2 {
		p.expect("api status")
		p.write("Content-Type: api/response\nContent-Length: 3\n\nUP\n")
	}
	p.write(evFrame("CHANNEL_HANGUP_COMPLETE", "Hangup-Cause", "NORMAL_CLEARING"))
	if err := <-errc; err != nil {
		t.Fatalf("WaitEnd = %v", err)
	}
	wait(t, done)
}

func TestOutboundServer_Close(t *testing.T) {
	started := make(chan struct{})
	var handlerErr error
	s := NewOutboundServer("127.0.0.1:0", func(ctx context.Context, ch consent.Channel) {
		close(started)
		<-ctx.Done()
		_, handlerErr = ch.WaitEnd(ctx)
	}, testLogger(t))
	must(t, s.Open(context.Background()))
	if s.Addr().(*net.TCPAddr).Port == 0 {
		t.Fatal("Addr reports port 0")
	}
	p := dialScript(t, s, connectReply(t))
	<-started
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	p.expect("exit") // the handler returned: we let go of the call
	p.write("Content-Type: command/reply\nReply-Text: +OK bye\n\n")
	select {
	case err := <-closed:
		must(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if !errors.Is(handlerErr, context.Canceled) {
		t.Errorf("handler's WaitEnd = %v, want context.Canceled", handlerErr)
	}
	if _, err := net.Dial("tcp", s.Addr().String()); err == nil {
		t.Error("still accepting after Close")
	}
}

// TestLogsHoldNoCallerData: a whole call, a malformed event and a refused command, logged at
// debug level, leave no caller number or name in the log.
func TestLogsHoldNoCallerData(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	done := make(chan struct{})
	s := NewOutboundServer("127.0.0.1:0", func(ctx context.Context, ch consent.Channel) {
		defer close(done)
		_ = ch.Answer(ctx)
		_, _ = ch.Prompt(ctx, consentPrompt)
		_ = ch.StartRecording(ctx, "/rec/x.wav", 50*time.Millisecond)
	}, logger)
	must(t, s.Open(context.Background()))
	p := dialScript(t, s, connectReply(t))
	cmd := p.expect("answer")
	p.write(okReply, "Content-Length: 40\nContent-Type: text/event-plain\n\nCaller-Caller-ID-Number %2B4791234567\n\n\n", complete(cmd))
	cmd = p.expect("play_and_get_digits")
	p.write(okReply, complete(cmd, "variable_read_result", "success", "variable_consent_digit", "1"))
	p.expect("record_session")
	p.write("Content-Type: command/reply\nReply-Text: -ERR Kari Nordmann +4791234567\n\n")
	wait(t, done)
	p.nc.Close()
	must(t, s.Close())
	for _, secret := range []string{"4791234567", "Kari", "Nordmann"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log holds %q:\n%s", secret, buf.String())
		}
	}
	for _, want := range []string{scriptUUID, "dropped malformed event"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}
