package fakefs

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The m-* transcripts were recorded by esl/realfs's relay between a real FreeSWITCH 1.11 and
// callconsent itself. Here a stand-in daemon sends callconsent's commands again, byte for byte,
// each once the fake has sent as many messages as FreeSWITCH had when callconsent sent it;
// the fake must answer with the same messages in the same order, with the same headers and
// variables.

// recordedDir matches the temporary folder of the recording run in the transcripts' paths.
var recordedDir = regexp.MustCompile(`/tmp/TestRealFreeSWITCH[0-9]+/001/`)

// flowTranscript is one recorded call: the commands callconsent sent, and how many messages
// FreeSWITCH had sent before each.
type flowTranscript struct {
	cmds   []string
	before []int
	aLeg   string
	bLeg   string
}

func loadFlowTranscript(t *testing.T, name, dir string) flowTranscript {
	t.Helper()
	txt, err := os.ReadFile(filepath.Join("..", "..", "testdata", "esl", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	sent, err := os.ReadFile(filepath.Join("..", "..", "testdata", "esl", name+".sent.raw"))
	if err != nil {
		t.Fatal(err)
	}
	var ft flowTranscript
	for _, c := range strings.SplitAfter(string(sent), "\n\n") {
		if c != "" {
			ft.cmds = append(ft.cmds, recordedDir.ReplaceAllString(c, dir+"/"))
		}
	}
	// Messages FreeSWITCH had sent before each command, CHANNEL_PARK not counted: the real
	// switch sends it at no fixed place (see racy).
	received := 0
	for _, block := range strings.Split(string(txt), "\n### t=")[1:] {
		switch {
		case strings.Contains(block, "RECEIVED from FreeSWITCH") && !strings.Contains(block, "<<< Event-Name: CHANNEL_PARK\n"):
			received++
		case strings.Contains(block, "SENT to FreeSWITCH"):
			ft.before = append(ft.before, received)
		}
	}
	if len(ft.before) != len(ft.cmds) {
		t.Fatalf("%s: %d commands in .sent.raw, %d in .txt", name, len(ft.cmds), len(ft.before))
	}
	units := transcriptUnits(t, name)
	ft.bLeg, ft.aLeg = units[0].get("Unique-ID"), units[0].get("variable_origination_uuid")
	return ft
}

// replayFlow plays callconsent from the transcript against the fake and returns what the fake
// sent. The notice files and the recordings folder of the recording run live below dir.
func replayFlow(t *testing.T, s *Server, ft flowTranscript, spec CallSpec) (CallResult, []unit) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	spec.UUID, spec.ALegUUID = ft.bLeg, ft.aLeg
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	results := make(chan CallResult, 1)
	go func() {
		res, err := s.Call(ctx, ln.Addr().String(), spec)
		if err != nil {
			t.Errorf("Call: %v", err)
		}
		results <- res
	}()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := newRawClient(t, conn)
	counted := func() int {
		n := len(c.got)
		if slices.ContainsFunc(c.got, func(u unit) bool { return u.kind() == "event CHANNEL_PARK" }) {
			n--
		}
		return n
	}
	for i, cmd := range ft.cmds {
		for counted() < ft.before[i] {
			conn.SetReadDeadline(time.Now().Add(15 * time.Second))
			u, err := readUnit(c.br)
			if err != nil {
				t.Fatalf("before command %d (%q): the fake sent %d messages, FreeSWITCH %d: %v\nso far: %q",
					i, strings.SplitN(cmd, "\n", 2)[0], len(c.got), ft.before[i], err, kinds(c.got))
			}
			c.got = append(c.got, u)
		}
		if _, err := conn.Write([]byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	for {
		conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		u, err := readUnit(c.br)
		if err != nil {
			break
		}
		c.got = append(c.got, u)
	}
	return <-results, c.got
}

// flowDir makes the folder layout of the recording run: the 3 s notice, the invalid-choice
// prompt, and the recordings' day folders.
func flowDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeTestWAV(t, filepath.Join(dir, "notice-nb.wav"), 3*time.Second)
	writeTestWAV(t, filepath.Join(dir, "invalid-nb.wav"), 300*time.Millisecond)
	return dir
}

func TestReplayFlowTranscripts(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		script []Step
		talk   time.Duration // hangup after the transfer
	}{
		{"m-consent", []Step{Press(AtNoticeHeard, 400*ms, "1")}, 4 * time.Second},
		{"m-decline", []Step{Press(AtNoticeHeard, 1300*ms, "2")}, time.Second},
		{"m-hangup-during-notice", []Step{HangUp(AtPrompt, time.Second)}, 0},
		{"m-no-input", nil, 500 * ms},
		{"m-wrong-key-then-consent", []Step{Press(AtNoticeHeard, 1200*ms, "3"), PressOnTry(2, 500*ms, "1")}, 1500 * ms},
		{"m-key-at-answer", []Step{Press(AtFlush, 0, "1"), Press(AtNoticeHeard, 1300*ms, "1")}, 1500 * ms},
		// callconsent stopped during the notice: its unset and transfer run inside the playing
		// notice, which the transfer ends (FreeSWITCH runs a sendmsg from within playback).
		{"m-callconsent-stopped", nil, 500 * ms},
		// uuid_record stop on the control connection 2 s into the recording (below).
		{"m-withdraw-live", []Step{Press(AtNoticeHeard, 50*ms, "1")}, 3500 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := flowDir(t)
			s := New(Config{ParkTick: time.Second})
			if err := s.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ft := loadFlowTranscript(t, tc.name+"-outbound", dir)
			for _, c := range ft.cmds {
				if strings.Contains(c, "record_session") {
					for _, l := range strings.Split(c, "\n") {
						if p, ok := strings.CutPrefix(l, "Execute-App-Arg: "); ok {
							os.MkdirAll(filepath.Dir(strings.Fields(p)[0]), 0o700)
						}
					}
				}
			}
			talk := tc.talk
			if talk == 0 {
				talk = -1
			}
			if tc.name == "m-withdraw-live" {
				go stopRecordingLater(t, s, ft, 2*time.Second)
			}
			_, got := replayFlow(t, s, ft, CallSpec{CallerIDNumber: "+4791234567", CallerIDName: "", Script: tc.script, HangupAfterTransfer: talk})
			compareToTranscript(t, got, tc.name+"-outbound")
		})
	}
}

// writeTestWAV writes d of 8 kHz mono 16-bit PCM silence.
func writeTestWAV(t *testing.T, path string, d time.Duration) {
	t.Helper()
	n := int(d.Seconds() * 16000)
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+n))
	binary.LittleEndian.PutUint32(h[40:], uint32(n))
	if err := os.WriteFile(path, append(h, make([]byte, n)...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// stopRecordingLater sends `api uuid_record <uuid> stop <path>` on an inbound connection, as
// callconsent's control connection does for a live withdrawal, d after record_session came.
func stopRecordingLater(t *testing.T, s *Server, ft flowTranscript, d time.Duration) {
	var path string
	for _, c := range ft.cmds {
		if strings.Contains(c, "Execute-App-Name: record_session") {
			for _, l := range strings.Split(c, "\n") {
				if p, ok := strings.CutPrefix(l, "Execute-App-Arg: "); ok {
					path = strings.Fields(p)[0]
				}
			}
		}
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, c := range s.Commands() {
			if c.App == "record_session" {
				time.Sleep(d)
				in := dialRaw(t, s.Addr())
				in.read() // auth/request
				in.send("auth ClueCon\n\n")
				in.read()
				in.send("api uuid_record " + ft.bLeg + " stop " + path + "\n\n")
				in.read()
				return
			}
		}
	}
	t.Errorf("record_session never came")
}
