package fakefs

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestShutdown follows i-fs-shutdown: fsctl shutdown hangs the call up with
// SYSTEM_SHUTDOWN, then after the delay both connections get the shutdown notice and
// are closed; Restart listens again on the same address.
func TestShutdown(t *testing.T) {
	s := newTestServer(t, Config{ShutdownDelay: 300 * time.Millisecond})
	addr := s.Addr()
	ctl := authed(t, s, "BACKGROUND_JOB CHANNEL_HANGUP_COMPLETE RECORD_START RECORD_STOP")
	d := newDaemon(t)
	d.noExit = true
	go d.serveOne()
	spec := CallSpec{Script: []Step{Press(AtPrompt, 30*time.Millisecond, "1")}, HangupAfterTransfer: -1}
	resc := make(chan CallResult, 1)
	go func() { r, _ := s.Call(context.Background(), d.ln.Addr().String(), spec); resc <- r }()
	ctl.until(isEvent("RECORD_START", ""))
	time.Sleep(100 * time.Millisecond)
	began := time.Now()
	ctl.send("api fsctl shutdown\n\n")
	if u := ctl.read(); string(u.body) != "+OK\n" {
		t.Fatalf("fsctl: %q", u.raw)
	}
	last := ctl.until(func(u unit) bool { return u.get("Content-Type") == "text/disconnect-notice" })
	ctl.expectEOF()
	if time.Since(began) < 300*time.Millisecond {
		t.Errorf("closed after %v, before the shutdown delay", time.Since(began))
	}
	want := transcriptUnits(t, "i-fs-shutdown-control-inbound")
	if string(last.raw) != string(want[len(want)-1].raw) {
		t.Errorf("control notice %q", last.raw)
	}
	gotEv := kinds(slices.DeleteFunc(slices.Clone(ctl.got), func(u unit) bool { return u.get("Content-Type") != "text/event-plain" }))
	wantEv := kinds(slices.DeleteFunc(want, func(u unit) bool {
		return u.get("Content-Type") != "text/event-plain" || u.field("Event-Name") == "BACKGROUND_JOB"
	}))
	if !slices.Equal(gotEv, wantEv) {
		t.Errorf("control events\n got: %q\nwant: %q", gotEv, wantEv)
	}
	res := <-resc
	out := <-d.result
	compareToTranscript(t, out.got, "i-fs-shutdown-outbound")
	if res.HangupCause != "SYSTEM_SHUTDOWN" || len(res.Recordings) != 1 || res.ExitByDaemon {
		t.Errorf("result %+v", res)
	}
	if _, err := s.Call(context.Background(), d.ln.Addr().String(), CallSpec{}); err == nil {
		t.Error("Call accepted during/after shutdown")
	}
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", s.Addr(), addr)
	}
	c := dialRaw(t, addr)
	if u := c.read(); string(u.raw) != authRequest {
		t.Fatalf("after restart: %q", u.raw)
	}
}

func TestDropInbound(t *testing.T) {
	s := newTestServer(t, Config{})
	c := authed(t, s, "HEARTBEAT")
	s.DropInbound()
	c.expectEOF()
	c2 := authed(t, s, "HEARTBEAT")
	c2.send("api uuid_exists x\n\n")
	if u := c2.read(); string(u.body) != "false" {
		t.Fatalf("%q", u.raw)
	}
}
