package fakefs

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func authed(t *testing.T, s *Server, events string) *rawClient {
	t.Helper()
	c := dialRaw(t, s.Addr())
	c.read() // auth/request
	c.send("auth ClueCon\n\n")
	if u := c.read(); u.get("Reply-Text") != "+OK accepted" {
		t.Fatalf("auth: %q", u.raw)
	}
	if events != "" {
		c.send("event plain " + events + "\n\n")
		if u := c.read(); u.get("Reply-Text") != "+OK event listener enabled plain" {
			t.Fatalf("event: %q", u.raw)
		}
	}
	return c
}

// TestBadAuth replays k-badauth byte for byte: wrong password, a command before auth,
// an unknown first command.
func TestBadAuth(t *testing.T) {
	s := newTestServer(t, Config{})
	var got bytes.Buffer
	c1 := dialRaw(t, s.Addr())
	c1.read()
	c1.send("auth WrongPassword\n\n")
	c1.read()
	c1.read()
	c1.expectEOF()
	c2 := dialRaw(t, s.Addr())
	c2.read()
	c2.send("api status\n\n")
	c2.read()
	c2.send("auth ClueCon\n\n")
	c2.read()
	c2.send("exit\n\n")
	c2.read()
	c2.read()
	c2.expectEOF()
	c3 := dialRaw(t, s.Addr())
	c3.read()
	c3.send("hello\n\n")
	c3.read()
	for _, c := range []*rawClient{c1, c2, c3} {
		for _, u := range c.got {
			got.Write(u.raw)
		}
	}
	want, err := os.ReadFile("../../testdata/esl/k-badauth.recv.raw")
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Fatalf("bytes differ\n got: %q\nwant: %q", got.String(), want)
	}
	c3.send("auth ClueCon\n\n") // still open and usable
	if u := c3.read(); u.get("Reply-Text") != "+OK accepted" {
		t.Fatalf("late auth: %q", u.raw)
	}
}

// TestInboundSession follows j-inbound: HEARTBEAT, api status, uuid_exists, bgapi with
// a client Job-UUID and its BACKGROUND_JOB, an unknown api command, exit.
func TestInboundSession(t *testing.T) {
	s := newTestServer(t, Config{HeartbeatInterval: 100 * time.Millisecond})
	c := authed(t, s, "CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE RECORD_START RECORD_STOP DTMF CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB HEARTBEAT")
	want := transcriptUnits(t, "j-inbound")
	pick := func(kind string) unit {
		return want[slices.IndexFunc(want, func(u unit) bool { return u.kind() == kind })]
	}

	hb := c.until(isEvent("HEARTBEAT", ""))
	if g, w := hb.names(), pick("event HEARTBEAT").names(); !slices.Equal(g, w) {
		t.Errorf("HEARTBEAT names\n got: %q\nwant: %q", g, w)
	}
	c.send("api status\n\n")
	st := c.until(func(u unit) bool { return u.get("Content-Type") == "api/response" })
	lines := strings.Split(string(st.body), "\n")
	if len(lines) != 9 || !strings.HasPrefix(lines[0], "UP 0 years, 0 days, 0 hours, 0 minutes, ") ||
		lines[1] != "FreeSWITCH (Version 1.11.3-dev  64bit) is ready" || !slices.Equal(st.names(), []string{"Content-Type", "Content-Length"}) {
		t.Errorf("status: %q", st.raw)
	}
	for _, q := range []struct{ cmd, body string }{
		{"api uuid_exists " + newUUID(), "false"},
		{"api no_such_command foo", "-ERR no_such_command Command not found!\n"},
		{"api uuid_kill " + newUUID(), "-ERR No such channel!\n"},
		{"api uuid_record " + newUUID() + " stop /tmp/x.wav", "-ERR Cannot locate session!\n"},
	} {
		c.send(q.cmd + "\n\n")
		u := c.until(func(u unit) bool { return u.get("Content-Type") == "api/response" })
		if string(u.body) != q.body {
			t.Errorf("%s: body %q, want %q", q.cmd, u.body, q.body)
		}
	}
	job := "708f4800-7510-4065-9420-4a3b9554f8dd"
	c.send("bgapi status\nJob-UUID: " + job + "\n\n")
	r := c.until(func(u unit) bool { return u.get("Content-Type") == "command/reply" })
	if string(r.raw) != "Content-Type: command/reply\nReply-Text: +OK Job-UUID: "+job+"\nJob-UUID: "+job+"\n\n" {
		t.Errorf("bgapi reply %q", r.raw)
	}
	bj := c.until(isEvent("BACKGROUND_JOB", ""))
	wantBJ := want[slices.IndexFunc(want, func(u unit) bool { return u.field("Job-Command") == "status" })]
	if g, w := bj.names(), wantBJ.names(); !slices.Equal(g, w) || bj.field("Job-UUID") != job {
		t.Errorf("BACKGROUND_JOB names\n got: %q\nwant: %q", g, w)
	}
	if !strings.Contains(string(bj.body), "\n\nUP 0 years") {
		t.Errorf("BACKGROUND_JOB body %q", bj.body)
	}
	c.send("exit\n\n")
	c.until(func(u unit) bool { return u.get("Reply-Text") == "+OK bye" })
	n := c.read()
	if string(n.raw) != string(want[len(want)-1].raw) {
		t.Errorf("goodbye %q", n.raw)
	}
	c.expectEOF()
}

// TestWithdrawLive follows h-withdraw-live: uuid_record stop while the call is up, the
// same stop again, and once more after the hangup.
func TestWithdrawLive(t *testing.T) {
	s := newTestServer(t, Config{})
	ctl := authed(t, s, "BACKGROUND_JOB CHANNEL_HANGUP_COMPLETE RECORD_START RECORD_STOP")
	d := newDaemon(t)
	go d.serveOne()
	spec := CallSpec{Script: []Step{Press(AtPrompt, 30*time.Millisecond, "1")}, HangupAfterTransfer: 500 * time.Millisecond}
	resc := make(chan CallResult, 1)
	go func() { r, _ := s.Call(context.Background(), d.ln.Addr().String(), spec); resc <- r }()

	start := ctl.until(isEvent("RECORD_START", ""))
	uuid, path := start.field("Unique-ID"), start.field("Record-File-Path")
	api := func(cmd string) string {
		ctl.send("api " + cmd + "\n\n")
		return string(ctl.until(func(u unit) bool { return u.get("Content-Type") == "api/response" }).body)
	}
	time.Sleep(150 * time.Millisecond) // let the call reach the employee
	if got := api("uuid_exists " + uuid); got != "true" {
		t.Errorf("uuid_exists live = %q", got)
	}
	if got := api("uuid_record " + uuid + " stop " + path); got != "+OK Success\n" {
		t.Fatalf("stop = %q", got)
	}
	stop := ctl.read() // RECORD_STOP comes right after the api response
	if stop.field("Event-Name") != "RECORD_STOP" || stop.field("Answer-State") != "answered" ||
		stop.field("Record-Completion-Cause") != "success-maxtime" || stop.field("Hangup-Cause") != "" {
		t.Errorf("RECORD_STOP: %q", stop.body)
	}
	if got := api("uuid_record " + uuid + " stop " + path); got != "-ERR Cannot stop record session!\n" {
		t.Errorf("second stop = %q", got)
	}
	ctl.until(func(u unit) bool { return isEvent("CHANNEL_HANGUP_COMPLETE", "")(u) && u.field("Unique-ID") == uuid })
	if got := api("uuid_record " + uuid + " stop " + path); got != "-ERR Cannot locate session!\n" {
		t.Errorf("stop after hangup = %q", got)
	}
	if got := api("uuid_exists " + uuid); got != "false" {
		t.Errorf("uuid_exists dead = %q", got)
	}
	res := <-resc
	out := <-d.result
	sockStop := slices.IndexFunc(out.got, isEvent("RECORD_STOP", ""))
	if sockStop < 0 || out.got[sockStop].field("Answer-State") != "answered" {
		t.Errorf("no live RECORD_STOP on the socket")
	}
	// control connection: same events with the same header names as the transcript
	want := transcriptUnits(t, "h-withdraw-live-control-inbound")
	wantEv := slices.DeleteFunc(want, func(u unit) bool {
		return u.get("Content-Type") != "text/event-plain" || u.field("Event-Name") == "BACKGROUND_JOB"
	})
	gotEv := slices.DeleteFunc(slices.Clone(ctl.got), func(u unit) bool { return u.get("Content-Type") != "text/event-plain" })
	if g, w := kinds(gotEv), kinds(wantEv); !slices.Equal(g, w) {
		t.Fatalf("control events\n got: %q\nwant: %q", g, w)
	}
	for i := range wantEv {
		if g, w := stripVariables(gotEv[i].names()), stripVariables(wantEv[i].names()); !slices.Equal(g, w) {
			t.Errorf("control %s names\n got: %q\nwant: %q", wantEv[i].kind(), g, w)
		}
	}
	if len(res.Recordings) != 1 || res.Recordings[0].Cause != "success-maxtime" {
		t.Errorf("result %+v", res)
	}
	checkWAV(t, path, res.Recordings[0].Samples, true)
}
