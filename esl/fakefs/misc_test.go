package fakefs

import (
	"bufio"
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func containsKind(us []unit, k string) bool {
	for _, u := range us {
		if u.kind() == k {
			return true
		}
	}
	return false
}

func TestEncode(t *testing.T) {
	for in, want := range map[string]string{
		"+4791234567":        "%2B4791234567",
		"Kari Nordmann":      "Kari%20Nordmann",
		pagdArg:              "1%201%203%205000%20%23%20tone_stream%3A//%25(3000,0,600)%20silence_stream%3A//250%20consent_digit%20%5E%5B12%5D$",
		"/var/lib/x-y_z.wav": "/var/lib/x-y_z.wav",
		"a %2B b":            "a%20%2B%20b",
		"\"Kari\" <+47>":     "%22Kari%22%20%3C%2B47%3E",
		"æ\r\n`|{}":          "%C3%A6%0D%0A%60%7C%7B%7D",
		"fd00::2":            "fd00%3A%3A2",
		"it's $5, (ok) ~!":   "it's%20$5,%20(ok)%20~!",
	} {
		if got := encode(in); got != want {
			t.Errorf("encode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadCommand(t *testing.T) {
	in := "\n\nsendmsg\ncall-command: execute\nexecute-app-name: playback\ncontent-length: 5\n\nhello" +
		"api status\r\n\r\n" + "bad\nno colon here\n\n" + "x\nContent-Length: -1\n\n"
	br := bufio.NewReader(strings.NewReader(in))
	c, err := readCommand(br)
	if err != nil || c.line != "sendmsg" || c.get("Execute-App-Name") != "playback" || c.body != "hello" {
		t.Fatalf("sendmsg: %+v %v", c, err)
	}
	if c, err = readCommand(br); err != nil || c.line != "api status" {
		t.Fatalf("api: %+v %v", c, err)
	}
	if c, err = readCommand(br); err != errBadCommand || c.line != "bad" {
		t.Fatalf("bad: %+v %v", c, err)
	}
	if _, err = readCommand(br); err == nil {
		t.Fatal("negative Content-Length accepted")
	}
}

func FuzzReadCommand(f *testing.F) {
	f.Add([]byte("sendmsg\nEvent-UUID: x\ncontent-length: 3\n\nabc"))
	f.Add([]byte("auth ClueCon\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReaderSize(strings.NewReader(string(b)), 64)
		for i := 0; i < 10; i++ {
			if _, err := readCommand(br); err != nil && err != errBadCommand {
				return
			}
		}
	})
}

// TestOutboundDetails covers caller id and callconsent_lang in the connect reply, a
// malformed command, an unknown application, and the command log.
func TestOutboundDetails(t *testing.T) {
	s := newTestServer(t, Config{})
	d := newDaemon(t)
	spec := CallSpec{CallerIDNumber: "+4700000001", CallerIDName: "Ola Æ", Lang: "nb", Vars: []Var{{"x_y", "a b"}}}
	go func() {
		conn, err := d.ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		c := newRawClient(t, conn)
		c.send("connect\n\n")
		r := c.read()
		if r.get("Caller-Caller-ID-Number") != "%2B4700000001" || r.get("Channel-Caller-ID-Name") != "Ola%20%C3%86" ||
			r.get("variable_callconsent_lang") != "nb" || r.get("variable_x_y") != "a%20b" || r.get("Control") != "full" {
			t.Errorf("connect reply: %q", r.raw)
		}
		c.send("myevents\n\n")
		c.read()
		c.send("bogus\nno-colon\n\n")
		if u := c.read(); string(u.raw) != "Content-Type: command/reply\nReply-Text: -ERR command not found\n\n" {
			t.Errorf("bad command reply %q", u.raw)
		}
		c.send(sendmsg("no_such_app", "x", "id-1"))
		c.read()
		u := c.until(isEvent("CHANNEL_EXECUTE_COMPLETE", "no_such_app"))
		if u.field("Application-UUID") != "id-1" || !strings.HasPrefix(u.field("Application-Response"), "-ERR") {
			t.Errorf("unknown app completion: %q", u.body)
		}
		c.until(isEvent("CHANNEL_HANGUP_COMPLETE", ""))
		c.until(func(u unit) bool { return u.kind() == "notice disconnect" }) // no linger: goodbye at once
		c.expectEOF()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.Call(ctx, d.ln.Addr().String(), spec)
	if err != nil || res.HangupCause != "DESTINATION_OUT_OF_ORDER" {
		t.Fatalf("res %+v err %v", res, err)
	}
	var lines []string
	for _, r := range s.CommandsFor(res.UUID) {
		lines = append(lines, r.Line+"|"+r.App)
	}
	if strings.Join(lines, ",") != "connect|,myevents|,bogus|,sendmsg|no_such_app" {
		t.Errorf("command log %q", lines)
	}
}

func TestCallContextCancel(t *testing.T) {
	s := newTestServer(t, Config{})
	d := newDaemon(t)
	go func() {
		conn, err := d.ln.Accept()
		if err == nil {
			defer conn.Close()
			time.Sleep(2 * time.Second) // a daemon that never speaks
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.Call(ctx, d.ln.Addr().String(), CallSpec{}); err != context.DeadlineExceeded {
		t.Fatalf("err %v", err)
	}
	if n := s.LiveCalls(); n != 0 {
		t.Fatalf("live calls %d", n)
	}
}

// TestQueuedTransferRunsWhenSocketCloses: a daemon that sends connect and a transfer in one
// write and closes at once (callconsent turning a call away over max-calls) still gets the
// caller transferred, as FreeSWITCH runs the messages still queued when its socket
// application's park ends (esl/realfs OverMaxCalls); without a queued transfer the call ends.
func TestQueuedTransferRunsWhenSocketCloses(t *testing.T) {
	for _, tc := range []struct {
		name, send string
		apps       []string
	}{
		{"transfer queued", "connect\n\n" + sendmsg("transfer", "6000 XML default", "id-1"), []string{"transfer"}},
		{"nothing queued", "connect\n\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Config{})
			d := newDaemon(t)
			go func() {
				conn, err := d.ln.Accept()
				if err == nil {
					conn.Write([]byte(tc.send))
					conn.Close()
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := s.Call(ctx, d.ln.Addr().String(), CallSpec{HangupAfterTransfer: 50 * time.Millisecond})
			if err != nil || !slices.Equal(res.Apps, tc.apps) || res.HangupCause != "NORMAL_CLEARING" {
				t.Fatalf("res %+v err %v; want apps %q, then a hangup", res, err, tc.apps)
			}
		})
	}
}
