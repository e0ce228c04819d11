package esl

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// listen returns a loopback listener whose accepted connections go to serve.
func listen(t testing.TB, serve func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(nc)
		}
	}()
	return ln
}

func newTestControl(t testing.TB, addr, password string) *Control {
	c := NewControl(addr, password, testLogger(t))
	c.BackoffMin, c.BackoffMax = 5*time.Millisecond, 50*time.Millisecond
	c.CommandTimeout = time.Second
	return c
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// replayControl serves one transcript connection and then refuses further ones.
func replayControl(t *testing.T, name string) (*Control, *replay) {
	r := loadReplay(t, name, matchInbound)
	var once sync.Once
	ln := listen(t, func(nc net.Conn) {
		served := false
		once.Do(func() { served = true; r.serve(nc, true) })
		if !served {
			nc.Close()
		}
	})
	c := newTestControl(t, ln.Addr().String(), "ClueCon")
	must(t, c.Open(context.Background()))
	t.Cleanup(func() { c.Close() })
	waitFor(t, "ready", c.Ready)
	return c, r
}

func TestControl_CallExists(t *testing.T) {
	c, r := replayControl(t, "j-inbound")
	ctx := context.Background()
	for _, tc := range []struct {
		uuid string
		want bool
	}{
		{"4c2cba1a-4de6-455f-98aa-bc1189c7262d", true},  // live
		{"4c2cba1a-4de6-455f-98aa-bc1189c7262d", false}, // after uuid_kill
		{"75475139-a171-4e44-9375-5c32e9e50d23", false}, // never existed
	} {
		got, err := c.CallExists(ctx, tc.uuid)
		if err != nil || got != tc.want {
			t.Errorf("CallExists(%s) = %v, %v; want %v", tc.uuid, got, err, tc.want)
		}
	}
	must(t, c.Close())
	cmds := r.commands()
	want := "event plain HEARTBEAT"
	if cmds[0] != "auth ClueCon" || cmds[1] != want || cmds[len(cmds)-1] != "exit" {
		t.Errorf("commands %q", cmds)
	}
}

func TestControl_StopRecording(t *testing.T) {
	c, _ := replayControl(t, "h-withdraw-live-control-inbound")
	const uuid = "928bf071-a72d-4d37-b54a-2eac106b3e6b"
	const path = "/var/lib/freeswitch/recordings/2026-11-26/" + uuid + ".wav"
	for _, want := range []StopResult{StopStopped, StopNotRecording, StopNoSession} {
		got, err := c.StopRecordingDetail(context.Background(), uuid, path)
		if err != nil || got != want {
			t.Errorf("StopRecordingDetail = %v, %v; want %v", got, err, want)
		}
	}
	if err := c.StopRecording(context.Background(), uuid, "/has space.wav"); consent.ErrorCode(err) != consent.EINVALID {
		t.Errorf("StopRecording with a space = %v", err)
	}
}

// TestControl_BadAuth: the k-badauth exchange (-ERR invalid, goodbye, close) on every attempt.
func TestControl_BadAuth(t *testing.T) {
	units := loadReplay(t, "k-badauth", func(string, string) bool { return false }).units
	var attempts atomic.Int32
	ln := listen(t, func(nc net.Conn) {
		defer nc.Close()
		attempts.Add(1)
		nc.Write(units[0].raw) // auth/request
		cmd, err := readCommand(bufio.NewReader(nc))
		if err != nil {
			return // the test ended while the control was redialling: not a protocol error
		} else if cmd != "auth WrongPassword" {
			t.Errorf("got %q", cmd)
		}
		nc.Write(append(append([]byte{}, units[1].raw...), units[2].raw...)) // -ERR invalid, goodbye
	})
	c := newTestControl(t, ln.Addr().String(), "WrongPassword")
	must(t, c.Open(context.Background()))
	defer c.Close()
	waitFor(t, "retries", func() bool { return attempts.Load() >= 3 })
	if c.Ready() {
		t.Error("ready after a refused auth")
	}
	if _, err := c.CallExists(context.Background(), "75475139-a171-4e44-9375-5c32e9e50d23"); !errors.Is(err, consent.ErrNotReady) {
		t.Errorf("CallExists = %v, want ErrNotReady", err)
	}
}

// fakeControl is a minimal healthy FreeSWITCH for reconnect tests. uuid_exists answers true
// for uuids ending in an even digit, so mixed-up replies would show.
type fakeControl struct {
	silent   atomic.Bool // stop answering api status
	live     atomic.Int32
	accepted chan net.Conn
}

func (f *fakeControl) serve(nc net.Conn) {
	f.live.Add(1)
	defer f.live.Add(-1)
	defer nc.Close()
	nc.Write([]byte("Content-Type: auth/request\n\n"))
	br := bufio.NewReader(nc)
	for {
		cmd, err := readCommand(br)
		if err != nil {
			return
		}
		switch {
		case strings.HasPrefix(cmd, "auth "):
			nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK accepted\n\n"))
		case strings.HasPrefix(cmd, "event plain "):
			nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n"))
			f.accepted <- nc
		case cmd == "api status" && f.silent.Load():
		case strings.HasPrefix(cmd, "api uuid_exists "):
			body := "false"
			if strings.ContainsAny(cmd[len(cmd)-1:], "02468") {
				body = "true"
			}
			time.Sleep(time.Millisecond)
			nc.Write([]byte("Content-Type: api/response\nContent-Length: " + string(rune('0'+len(body))) + "\n\n" + body))
		case cmd == "exit":
			nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK bye\n\n"))
			return
		default:
			nc.Write([]byte(cannedReply(cmd)))
		}
	}
}
