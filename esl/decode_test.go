package esl

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeValue(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"%2B4791234567":       "+4791234567",
		"Kari%20Nordmann":     "Kari Nordmann",
		"a+b":                 "a+b", // '+' is not a space in ESL
		"100%":                "100%",
		"%zz%2":               "%zz%2",
		"%25(3000,0,600)":     "%(3000,0,600)",
		"%5E%5B12%5D$":        "^[12]$",
		"%c3%A6%2b":           "æ+",
		"fd00%3A%3A2%":        "fd00::2%",
		"%%41":                "%A",
		"/var/lib/x-y_z.wav":  "/var/lib/x-y_z.wav",
		"%2BOK%0A":            "+OK\n",
		"%E2%82%AC%20%FFtail": "€ \xfftail",
	} {
		if got := decodeValue(in); got != want {
			t.Errorf("decodeValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadFrame_Transcripts parses every captured stream and checks it splits into the same
// messages as the transcripts' own splitter, with every event body parseable.
func TestReadFrame_Transcripts(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "esl", "*.recv.raw"))
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		must(t, err)
		br := bufio.NewReader(bytes.NewReader(data))
		n := 0
		for ; ; n++ {
			f, err := readFrame(br)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s frame %d: %v", name, n, err)
			}
			if f.contentType() == typeEvent {
				if e, err := parseEvent(f.body); err != nil || e.name() == "" {
					t.Fatalf("%s frame %d: event %q, %v", name, n, e.name(), err)
				}
			}
		}
		if want := len(splitUnits(t, data)); n != want {
			t.Errorf("%s: %d frames, want %d", name, n, want)
		}
	}
}

func seedTranscripts(f *testing.F, events bool) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "esl", "*.recv.raw"))
	for _, name := range files[:min(len(files), 6)] {
		data, _ := os.ReadFile(name)
		for i, u := range splitUnits(f, data) {
			if i > 12 {
				break
			}
			if events {
				_, body, _ := bytes.Cut(u.raw, []byte("\n\n"))
				f.Add(body)
			} else {
				f.Add(u.raw)
			}
		}
	}
	f.Add([]byte("Content-Length: -1\n\n"))
	f.Add([]byte("Content-Length: 99999999999999\n\n"))
	f.Add([]byte("Content-Type: api/response\nContent-Length: 10\n\nabc"))
	f.Add([]byte("no colon here\n\n"))
	f.Add([]byte("variable_a[1]: %zz\nvariable_ü/x: %E2%82\n\n"))
}

// FuzzDecodeValue: never panics, identity without '%', and agrees with url.PathUnescape
// wherever that succeeds.
func FuzzDecodeValue(f *testing.F) {
	for _, s := range []string{"%2B47", "Kari%20Nordmann", "100%", "%zz", "%%41", "a+b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := decodeValue(s)
		if !strings.Contains(s, "%") && got != s {
			t.Fatalf("changed a value without escapes: %q -> %q", s, got)
		}
		if want, err := url.PathUnescape(s); err == nil && got != want {
			t.Fatalf("decodeValue(%q) = %q, PathUnescape = %q", s, got, want)
		}
		if len(got) > len(s) {
			t.Fatalf("decoded value grew: %q -> %q", s, got)
		}
	})
}

// FuzzDecodeFrame: arbitrary bytes from a peer give frames or errors, never a panic, and never
// a body beyond the bound.
func FuzzDecodeFrame(f *testing.F) {
	seedTranscripts(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), maxLineBytes)
		for range 1000 {
			fr, err := readFrame(br)
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, errFraming) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if len(fr.body) > maxBodyBytes {
				t.Fatalf("body of %d bytes", len(fr.body))
			}
			if fr.contentType() == typeEvent {
				_, _ = parseEvent(fr.body)
			}
			_ = fr.replyText()
		}
	})
}

// FuzzDecodeEvent: arbitrary event bodies parse or fail, never panic.
func FuzzDecodeEvent(f *testing.F) {
	seedTranscripts(f, true)
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := parseEvent(body)
		if err != nil {
			if !errors.Is(err, errFraming) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, k := range []string{"Event-Name", "Content-Length", "Application-UUID", "variable_read_result", ""} {
			_ = e.get(k)
			_ = e.has(k)
		}
		if len(e.body) > len(body) {
			t.Fatal("inner body longer than the event")
		}
	})
}

// A header line longer than the read buffer (a long SDP variable in a real connect reply) is
// gathered whole; one over maxLineBytes is a framing error, not an allocation without bound.
func TestReadFrame_LongHeaderLine(t *testing.T) {
	long := strings.Repeat("v", 20<<10)
	in := "Content-Type: command/reply\nReply-Text: %2BOK%0A\nvariable_switch_r_sdp: " + long + "\nUnique-ID: x\n\n"
	f, err := readFrame(bufio.NewReaderSize(strings.NewReader(in), readBufBytes))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.h.raw("variable_switch_r_sdp"); got != long || f.h.raw("Unique-ID") != "x" {
		t.Fatalf("long line: got %d bytes", len(got))
	}
	tooLong := "Content-Type: command/reply\nX: " + strings.Repeat("v", maxLineBytes+1) + "\n\n"
	if _, err := readFrame(bufio.NewReaderSize(strings.NewReader(tooLong), readBufBytes)); !errors.Is(err, errFraming) {
		t.Fatalf("line over the bound: %v, want a framing error", err)
	}
}
