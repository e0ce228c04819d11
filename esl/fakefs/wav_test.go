package fakefs

import (
	"context"
	"encoding/binary"
	"os"
	"testing"
	"time"
)

// checkWAV verifies a finished recording: stereo 8 kHz 16-bit PCM, header sizes equal
// to the file size, samples frames long; zeroTail expects the all-zero last 20 ms.
func checkWAV(t *testing.T, path string, samples int64, zeroTail bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("not a WAV: %q", b[:min(len(b), 44)])
	}
	if le.Uint16(b[20:]) != 1 || le.Uint16(b[22:]) != 2 || le.Uint32(b[24:]) != 8000 || le.Uint16(b[34:]) != 16 ||
		le.Uint32(b[28:]) != 32000 || le.Uint16(b[32:]) != 4 {
		t.Errorf("format: %x", b[20:36])
	}
	if int(le.Uint32(b[4:])) != len(b)-8 || int(le.Uint32(b[40:])) != len(b)-44 {
		t.Errorf("header sizes %d/%d for a %d-byte file", le.Uint32(b[4:]), le.Uint32(b[40:]), len(b))
	}
	if int64(len(b)) != 44+4*samples || samples == 0 {
		t.Errorf("file %d bytes, want %d (samples %d)", len(b), 44+4*samples, samples)
	}
	last := b[len(b)-640:]
	allZero := true
	for _, x := range last {
		allZero = allZero && x == 0
	}
	if allZero != zeroTail {
		t.Errorf("last frame all zero = %v, want %v", allZero, zeroTail)
	}
}

func TestRecordingGrowsAndIsValid(t *testing.T) {
	s := newTestServer(t, Config{RecordFlushInterval: 20 * time.Millisecond})
	ctl := authed(t, s, "RECORD_START RECORD_STOP")
	d := newDaemon(t)
	go d.serveOne()
	spec := CallSpec{Script: []Step{Press(AtPrompt, 30*time.Millisecond, "1")}, HangupAfterTransfer: 600 * time.Millisecond}
	resc := make(chan CallResult, 1)
	go func() { r, _ := s.Call(context.Background(), d.ln.Addr().String(), spec); resc <- r }()
	path := ctl.until(isEvent("RECORD_START", "")).field("Record-File-Path")
	var sizes []int64
	for i := 0; i < 3; i++ {
		time.Sleep(120 * time.Millisecond)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data := int64(binary.LittleEndian.Uint32(b[40:]))
		if data > int64(len(b))-44 || int64(binary.LittleEndian.Uint32(b[4:])) != data+36 {
			t.Errorf("growing header inconsistent: data %d, file %d", data, len(b))
		}
		sizes = append(sizes, int64(len(b)))
	}
	if !(sizes[0] < sizes[1] && sizes[1] < sizes[2]) {
		t.Errorf("file did not grow: %v", sizes)
	}
	stop := ctl.until(isEvent("RECORD_STOP", ""))
	res := <-resc
	<-d.result
	if len(res.Recordings) != 1 || stop.field("variable_record_samples") == "" ||
		stop.field("Record-Completion-Cause") != "success-silence" || stop.field("Answer-State") != "hangup" {
		t.Fatalf("result %+v stop %q", res, stop.body)
	}
	checkWAV(t, path, res.Recordings[0].Samples, false)
	if got := stop.field("variable_record_file_size"); got != itoa(res.Recordings[0].FileSize) {
		t.Errorf("record_file_size %s vs %d", got, res.Recordings[0].FileSize)
	}
}

func TestRecordSessionFailure(t *testing.T) {
	s := newTestServer(t, Config{})
	d := newDaemon(t)
	res, c := runCall(t, s, d, CallSpec{Script: []Step{Press(AtPrompt, 30*time.Millisecond, "1")}, FailRecordSession: true})
	for _, u := range c.got {
		if u.field("Event-Name") == "RECORD_START" || u.field("Event-Name") == "RECORD_STOP" {
			t.Fatalf("unexpected %s", u.field("Event-Name"))
		}
	}
	if len(res.RecordPaths) != 1 || len(res.Recordings) != 0 {
		t.Fatalf("result %+v", res)
	}
	if _, err := os.Stat(res.RecordPaths[0]); !os.IsNotExist(err) {
		t.Errorf("file exists: %v", err)
	}
	if !containsKind(c.got, "event CHANNEL_EXECUTE_COMPLETE record_session") {
		t.Error("record_session never completed")
	}
}

func TestMediaDuration(t *testing.T) {
	s := New(Config{})
	for in, want := range map[string]time.Duration{
		"silence_stream://250":                                   250 * time.Millisecond,
		"tone_stream://%(3000,0,600)":                            3 * time.Second,
		"tone_stream://%(1000,0,440);loops=20":                   20 * time.Second,
		"../../testdata/esl/a-consent-recording.wav":             50 * time.Millisecond, // relative: unknown
		"/nonexistent/prompt.wav":                                50 * time.Millisecond,
		"say:en number pronounced 5":                             50 * time.Millisecond,
		mustAbs(t, "../../testdata/esl/a-consent-recording.wav"): 5 * time.Second,
	} {
		if got := s.mediaDuration(in); got != want {
			t.Errorf("%s: %v, want %v", in, got, want)
		}
	}
}
