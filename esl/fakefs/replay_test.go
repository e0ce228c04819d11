package fakefs

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const pagdArg = "1 1 3 5000 # tone_stream://%(3000,0,600) silence_stream://250 consent_digit ^[12]$"

// daemon is a scripted stand-in for callconsent, driving the socket like the probe of
// the transcripts did: connect, myevents, linger 30, event plain RECORD_*, answer,
// play_and_get_digits, (record_session on 1), transfer, exit after the hangup.
type daemon struct {
	t          *testing.T
	ln         net.Listener
	recordDir  string
	skipRecord bool
	pagdArg    string // default pagdArg
	waitDTMF   bool   // wait for an early DTMF event after answer
	flushDTMF  bool   // execute flush_dtmf before the prompt (g2)
	noExit     bool   // after the linger notice just wait for FreeSWITCH to close (i)
	result     chan *rawClient
}

func newDaemon(t *testing.T) *daemon {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &daemon{t: t, ln: ln, recordDir: t.TempDir(), result: make(chan *rawClient, 1)}
}

func (d *daemon) serveOne() {
	conn, err := d.ln.Accept()
	if err != nil {
		d.t.Error(err)
		close(d.result)
		return
	}
	defer conn.Close()
	c := newRawClient(d.t, conn)
	defer func() { d.result <- c }()
	c.send("connect\n\n")
	data := c.read()
	uuid := data.get("Unique-ID")
	c.send("myevents\n\n")
	c.read()
	c.send("linger 30\n\n")
	c.read()
	c.send("event plain RECORD_START RECORD_STOP\n\n")
	c.read()
	exec := func(app, arg string) unit {
		id := newUUID()
		c.send(sendmsg(app, arg, id))
		c.until(func(u unit) bool {
			return u.field("Event-Name") == "CHANNEL_EXECUTE_COMPLETE" && u.field("Application-UUID") == id ||
				u.field("Event-Name") == "CHANNEL_HANGUP_COMPLETE"
		})
		return c.got[len(c.got)-1]
	}
	exec("answer", "")
	if d.waitDTMF {
		c.until(isEvent("DTMF", ""))
	}
	if d.flushDTMF {
		exec("flush_dtmf", "")
	}
	done := exec("play_and_get_digits", orDefault(d.pagdArg, pagdArg))
	hungUp := slices.ContainsFunc(c.got, isEvent("CHANNEL_HANGUP", ""))
	if !hungUp {
		if done.field("variable_consent_digit") == "1" && !d.skipRecord {
			path := filepath.Join(d.recordDir, "2026-11-26", uuid+".wav")
			exec("record_session", path+" {RECORD_STEREO=true}")
		}
		exec("transfer", "6000 XML default")
		c.until(isEvent("CHANNEL_HANGUP_COMPLETE", ""))
	}
	c.until(func(u unit) bool { return u.kind() == "notice linger" })
	if d.noExit {
		c.until(func(u unit) bool { return u.kind() == "notice disconnect" })
		c.expectEOF()
		return
	}
	c.send("exit\n\n")
	c.until(func(u unit) bool { return u.kind() == "notice disconnect" })
	c.expectEOF()
}

func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.FixedMediaDuration == 0 {
		cfg.FixedMediaDuration = 150 * time.Millisecond
	}
	s := New(cfg)
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func runCall(t *testing.T, s *Server, d *daemon, spec CallSpec) (CallResult, *rawClient) {
	t.Helper()
	go d.serveOne()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := s.Call(ctx, d.ln.Addr().String(), spec)
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	return res, <-d.result
}

func kinds(us []unit) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.kind())
	}
	return out
}

// stripVariables drops variable_* names: which variables exist depends on history
// (timings, the transcript's A-leg details) and is compared separately.
func stripVariables(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return strings.HasPrefix(n, "variable_") })
}

// compareToTranscript checks that the fake sent the same units in the same order as
// FreeSWITCH did, each with the same header names in the same order.
func compareToTranscript(t *testing.T, got []unit, transcript string) {
	t.Helper()
	want := racy(t, transcriptUnits(t, transcript))
	got = racy(t, got)
	if g, w := kinds(got), kinds(want); !slices.Equal(g, w) {
		t.Fatalf("%s: unit sequence differs %s", transcript, firstDiff(g, w))
	}
	for i := range want {
		g, w := got[i], want[i]
		if gn, wn := stripVariables(g.names()), stripVariables(w.names()); !slices.Equal(gn, wn) {
			t.Errorf("%s unit %d (%s): header names differ %s", transcript, i, w.kind(), firstDiff(gn, wn))
		}
		if gv, wv := varNames(g), varNames(w); !slices.Equal(gv, wv) {
			t.Errorf("%s unit %d (%s): variable names differ %s", transcript, i, w.kind(), firstDiff(gv, wv))
		}
		if w.get("Content-Type") != "text/event-plain" && w.kind() != "connect-reply" && w.get("Controlled-Session-UUID") == "" {
			if string(g.raw) != string(w.raw) {
				t.Errorf("%s unit %d: bytes differ\n got: %q\nwant: %q", transcript, i, g.raw, w.raw)
			}
		}
	}
}

// racy drops what the real FreeSWITCH itself sends at no fixed place: CHANNEL_PARK (before
// or after the reply to the first sendmsg, or never when that execute reaches the socket
// application before its park loop starts: the m-* transcripts show all three) and
// CHANNEL_HANGUP (anywhere in the hangup sequence, d2 and the m-* transcripts), after checking
// that there is at most one of each.
func racy(t *testing.T, us []unit) []unit {
	t.Helper()
	var out []unit
	n := map[string]int{}
	for _, u := range us {
		switch k := u.kind(); k {
		case "event CHANNEL_PARK", "event CHANNEL_HANGUP":
			if n[k]++; n[k] > 1 {
				t.Errorf("%s twice", k)
			}
		default:
			out = append(out, u)
		}
	}
	return out
}

// firstDiff shows where two lists part: the common length, then a few items of each from there.
func firstDiff(got, want []string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	tail := func(l []string) []string { return l[i:min(len(l), i+5)] }
	return fmt.Sprintf("from item %d (of %d got, %d want):\n got: %q\nwant: %q", i, len(got), len(want), tail(got), tail(want))
}

func varNames(u unit) []string {
	return slices.DeleteFunc(u.names(), func(n string) bool { return !strings.HasPrefix(n, "variable_") })
}

// shortPagd keeps the transcripts' arguments but a 100 ms timeout, so no-input runs
// take a second instead of 25.
const shortPagd = "1 1 3 100 # tone_stream://%(3000,0,600) silence_stream://250 consent_digit ^[12]$"

func TestReplayTranscripts(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		transcript string
		script     []Step
		daemon     daemon
		digit      string // expected variable_consent_digit on the pagd completion
		result     string // expected variable_read_result ("" = absent)
		records    int
	}{
		{"a-consent-outbound", []Step{Press(AtPrompt, 50*ms, "1")}, daemon{}, "1", "success", 1},
		{"b-decline-outbound", []Step{Press(AtPrompt, 50*ms, "2")}, daemon{}, "2", "success", 0},
		{"c-no-input-outbound", nil, daemon{pagdArg: shortPagd}, "", "failure", 0},
		{"d-hangup-during-prompt-outbound", []Step{HangUp(AtPrompt, 50*ms)}, daemon{}, "", "", 0},
		{"f-invalid-then-consent-outbound", []Step{Press(AtPrompt, 30*ms, "3"), PressOnTry(2, 30*ms, "1")}, daemon{}, "1", "success", 1},
		{"g-early-digit-outbound", []Step{Press(AtAnswer, 5*ms, "1")}, daemon{pagdArg: shortPagd, waitDTMF: true}, "", "failure", 0},
		{"g2-early-digit-flush-dtmf-outbound", []Step{Press(AtAnswer, 5*ms, "1")}, daemon{pagdArg: shortPagd, waitDTMF: true, flushDTMF: true}, "", "failure", 0},
	}
	for _, tc := range tests {
		t.Run(tc.transcript, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, Config{})
			d := newDaemon(t)
			d.pagdArg, d.waitDTMF, d.flushDTMF = tc.daemon.pagdArg, tc.daemon.waitDTMF, tc.daemon.flushDTMF
			res, c := runCall(t, s, d, CallSpec{Script: tc.script})
			if strings.HasPrefix(tc.transcript, "g2") {
				compareKindsOnly(t, c.got, tc.transcript) // FreeSWITCH sent its linger notice early there
			} else {
				compareToTranscript(t, c.got, tc.transcript)
			}
			pagd := c.got[slices.IndexFunc(c.got, isEvent("CHANNEL_EXECUTE_COMPLETE", "play_and_get_digits"))]
			if g := pagd.field("variable_consent_digit"); g != tc.digit {
				t.Errorf("consent_digit = %q, want %q", g, tc.digit)
			}
			if g := pagd.field("variable_read_result"); g != tc.result {
				t.Errorf("read_result = %q, want %q", g, tc.result)
			}
			if len(res.Recordings) != tc.records || res.HangupCause != "NORMAL_CLEARING" || !res.ExitByDaemon {
				t.Errorf("result: %+v", res)
			}
		})
	}
}

func compareKindsOnly(t *testing.T, got []unit, transcript string) {
	want := kinds(transcriptUnits(t, transcript))
	w := slices.DeleteFunc(want, func(k string) bool { return k == "notice linger" })
	g := slices.DeleteFunc(kinds(got), func(k string) bool { return k == "notice linger" })
	if !slices.Equal(g, w) {
		t.Fatalf("%s: unit sequence differs\n got: %q\nwant: %q", transcript, g, w)
	}
}
