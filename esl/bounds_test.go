package esl

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Tests of the bounds on what a peer may send (issue 8, item 4): each frame is bounded, so that a
// hostile local peer cannot make one connection hold much memory, and the bounds still fit what
// FreeSWITCH really sends, with room to spare.

// TestBounds_FitTranscripts reads every frame FreeSWITCH sent in testdata/esl and checks that
// the largest body, header block, line count and line are far below the bounds: a bound that
// cuts real FreeSWITCH traffic would end calls.
func TestBounds_FitTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "esl", "*.recv.raw"))
	if err != nil || len(files) < 20 {
		t.Fatalf("transcripts: %v (%d files)", err, len(files))
	}
	var body, block, lines, line int
	for _, name := range files {
		data, err := os.ReadFile(name)
		must(t, err)
		br := bufio.NewReaderSize(bytes.NewReader(data), readBufBytes)
		for {
			f, err := readFrame(br)
			if err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", filepath.Base(name), err)
			}
			body = max(body, len(f.body))
			for _, blk := range [][]byte{headerBytes(f), eventHeader(f)} {
				block = max(block, len(blk))
				lines = max(lines, bytes.Count(blk, []byte("\n")))
				for l := range bytes.SplitSeq(blk, []byte("\n")) {
					line = max(line, len(l))
				}
			}
		}
	}
	t.Logf("largest in the transcripts: body %d bytes, header block %d bytes in %d lines, line %d bytes", body, block, lines, line)
	for _, b := range []struct {
		what       string
		got, bound int
	}{{"body", body, maxBodyBytes}, {"header block", block, maxHeaderBytes}, {"header lines", lines, maxHeaderLines}, {"line", line, maxLineBytes}} {
		if b.got == 0 || b.got*6 > b.bound {
			t.Errorf("%s: largest %d, bound %d: want the bound at least 6 times what FreeSWITCH sends", b.what, b.got, b.bound)
		}
	}
}

// headerBytes re-renders a frame's header block (its size as sent, give or take the case of
// the names).
func headerBytes(f frame) []byte {
	var b bytes.Buffer
	for k, v := range f.h {
		b.WriteString(k + ": " + v + "\n")
	}
	return b.Bytes()
}

// eventHeader is an event's own header block, nil for other frames.
func eventHeader(f frame) []byte {
	if f.contentType() != typeEvent {
		return nil
	}
	e, _ := parseEvent(f.body)
	return e.hdr
}

// TestReadFrame_BodyBound: a body up to maxBodyBytes is read; one byte more is refused at the
// header, before a byte of it is read (the bound was 16 MiB: 200 connections announcing that
// much held 1.6 GB).
func TestReadFrame_BodyBound(t *testing.T) {
	for _, n := range []int{5357, maxBodyBytes} {
		in := "Content-Type: api/response\nContent-Length: " + strconv.Itoa(n) + "\n\n" + strings.Repeat("x", n)
		f, err := readFrame(bufio.NewReaderSize(strings.NewReader(in), readBufBytes))
		if err != nil || len(f.body) != n {
			t.Fatalf("body of %d bytes: %d read, %v", n, len(f.body), err)
		}
	}
	for _, n := range []int{maxBodyBytes + 1, 1 << 20, 16 << 20} {
		in := "Content-Type: api/response\nContent-Length: " + strconv.Itoa(n) + "\n\n"
		if _, err := readFrame(bufio.NewReaderSize(strings.NewReader(in), readBufBytes)); !errors.Is(err, errFraming) {
			t.Errorf("Content-Length %d: %v, want a framing error", n, err)
		}
	}
}

// TestReadBody_GrowsWithData: a peer that announces the largest body and sends a little of it
// has made us allocate about what it sent, not what it announced.
func TestReadBody_GrowsWithData(t *testing.T) {
	for _, n := range []int{32 << 10, maxBodyBytes} {
		br := bufio.NewReaderSize(io.MultiReader(strings.NewReader(strings.Repeat("x", 100)), errReader{}), readBufBytes)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b, err := readBody(br, n)
		runtime.ReadMemStats(&after)
		if b != nil || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("a cut-off body: %d bytes, %v", len(b), err)
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > 2*readBufBytes {
			t.Errorf("allocated %d bytes for 100 received of %d announced", a, n)
		}
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestReadFrame_HeaderLinesBound: a header block of more than maxHeaderLines lines (each would
// be a map entry) is refused.
func TestReadFrame_HeaderLinesBound(t *testing.T) {
	block := func(n int) string {
		var b strings.Builder
		b.WriteString("Content-Type: command/reply\n")
		for i := range n - 1 {
			b.WriteString("v" + strconv.Itoa(i) + ":\n")
		}
		return b.String() + "\n"
	}
	if f, err := readFrame(bufio.NewReaderSize(strings.NewReader(block(maxHeaderLines)), readBufBytes)); err != nil || len(f.h) != maxHeaderLines {
		t.Fatalf("%d lines: %d headers, %v", maxHeaderLines, len(f.h), err)
	}
	if _, err := readFrame(bufio.NewReaderSize(strings.NewReader(block(maxHeaderLines+1)), readBufBytes)); !errors.Is(err, errFraming) {
		t.Fatalf("%d lines: %v, want a framing error", maxHeaderLines+1, err)
	}
}

// TestReadFrame_HeaderBlockBound: a header block over maxHeaderBytes, in lines each within
// the line bound and fewer than maxHeaderLines, is refused (the bound was 1 MiB).
func TestReadFrame_HeaderBlockBound(t *testing.T) {
	block := func(size int) string {
		line := "X-Pad: " + strings.Repeat("p", 1016) + "\n" // 1 KiB
		return "Content-Type: command/reply\n" + strings.Repeat(line, size/len(line)) + "\n"
	}
	if _, err := readFrame(bufio.NewReaderSize(strings.NewReader(block(maxHeaderBytes-1024)), readBufBytes)); err != nil {
		t.Fatalf("a block within the bound: %v", err)
	}
	for _, size := range []int{maxHeaderBytes + 1024, 512 << 10} {
		if _, err := readFrame(bufio.NewReaderSize(strings.NewReader(block(size)), readBufBytes)); !errors.Is(err, errFraming) {
			t.Errorf("a header block of %d bytes: %v, want a framing error", size, err)
		}
	}
}

// TestReadFrame_HeaderNamesAnyCase: header names are case-insensitive, as FreeSWITCH's own
// parser takes them. A body announced with "content-length" is that frame's body; read as
// further frames, it would put words in FreeSWITCH's mouth (here: a reply to a command).
func TestReadFrame_HeaderNamesAnyCase(t *testing.T) {
	inner := "Content-Type: command/reply\nReply-Text: +OK injected\n\n"
	in := "content-type: api/response\nCONTENT-LENGTH: " + strconv.Itoa(len(inner)) + "\n\n" + inner
	br := bufio.NewReaderSize(strings.NewReader(in), readBufBytes)
	f, err := readFrame(br)
	if err != nil || f.contentType() != typeAPI || string(f.body) != inner {
		t.Fatalf("frame %q body %q, %v; want an api/response with the whole body", f.contentType(), f.body, err)
	}
	if f, err := readFrame(br); err != io.EOF {
		t.Fatalf("a second frame %q (%q), %v: the body was read as frames", f.contentType(), f.replyText(), err)
	}
	f, err = readFrame(bufio.NewReader(strings.NewReader("content-type: command/reply\nreply-text: +OK accepted\nUnique-ID: AbC\n\n")))
	if err != nil || !f.ok() || f.h.raw("unique-id") != "AbC" || f.h.get("UNIQUE-ID") != "AbC" {
		t.Fatalf("reply %q ok=%v unique-id %q, %v", f.replyText(), f.ok(), f.h.raw("unique-id"), err)
	}
}

// TestEvent_HeaderNamesAnyCase: an event's headers are found in any case; values keep theirs.
func TestEvent_HeaderNamesAnyCase(t *testing.T) {
	e, err := parseEvent([]byte("event-name: CHANNEL_HANGUP\nUNIQUE-ID: AbC\nApplication-UUIDx: no\napplication-uuid: Yes\ncontent-length: 2\n\nok"))
	if err != nil {
		t.Fatal(err)
	}
	if e.name() != "CHANNEL_HANGUP" || e.get("Unique-ID") != "AbC" || e.get("Application-UUID") != "Yes" || string(e.body) != "ok" {
		t.Fatalf("name %q unique-id %q application-uuid %q body %q", e.name(), e.get("Unique-ID"), e.get("Application-UUID"), e.body)
	}
}
