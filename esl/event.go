package esl

import (
	"bytes"
	"fmt"
)

// event is one text/event-plain message: its header block, kept as the raw bytes it came in
// (values still encoded), and the optional inner body (BACKGROUND_JOB results).
//
// Headers are looked up by scanning the block when asked, not parsed into a map up front: an
// event carries about 90 headers and the flow reads three or four of them, so building a map
// of strings for every event was the daemon's largest cost under load.
type event struct {
	hdr  []byte // "Key: Value\n" lines, ending with '\n'
	body []byte
}

// name is the Event-Name.
func (e event) name() string { v, _ := e.lookup("Event-Name"); return v }

// get returns a decoded header value.
func (e event) get(name string) string { v, _ := e.lookup(name); return decodeValue(v) }

// has reports whether the header is present at all.
func (e event) has(name string) bool { _, ok := e.lookup(name); return ok }

// lookup returns the raw value of the first line whose key is name, compared without regard to
// case as FreeSWITCH compares header names.
func (e event) lookup(name string) (string, bool) {
	data, n := e.hdr, len(name)
	if n == 0 {
		return "", false
	}
	for len(data) > n {
		line := data
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		if len(line) > n && line[n] == ':' && bytes.EqualFold(line[:n], []byte(name)) {
			return string(bytes.TrimRight(bytes.TrimLeft(line[n+1:], " "), "\r")), true
		}
	}
	return "", false
}

// parseEvent parses the body of a text/event-plain frame. It never panics; a body that is not a
// well-formed header block (a line without a colon, a line or block over the bounds, an inner
// Content-Length past the end) is a framing error.
func parseEvent(body []byte) (event, error) {
	hdr, rest := body, []byte(nil)
	if i := bytes.Index(body, []byte("\n\n")); i >= 0 {
		hdr, rest = body[:i+1], body[i+2:]
	}
	if len(bytes.TrimSpace(hdr)) == 0 {
		return event{}, fmt.Errorf("parse event: %w: empty", errFraming)
	}
	if len(hdr) > maxHeaderBytes {
		return event{}, fmt.Errorf("parse event: %w: header block too long", errFraming)
	}
	for line := hdr; len(line) > 0; {
		n := bytes.IndexByte(line, '\n')
		cur := line
		if n >= 0 {
			cur, line = line[:n], line[n+1:]
		} else {
			line = nil
		}
		if len(cur) > maxLineBytes {
			return event{}, fmt.Errorf("parse event: %w: header line too long", errFraming)
		}
		if cur = bytes.TrimRight(cur, "\r"); len(cur) > 0 && bytes.IndexByte(cur, ':') <= 0 {
			return event{}, fmt.Errorf("parse event: %w: header line without colon", errFraming)
		}
	}
	e := event{hdr: hdr}
	var n int
	if v, ok := e.lookup("Content-Length"); ok {
		var err error
		if n, err = contentLength(v); err != nil {
			return event{}, fmt.Errorf("parse event: %w", err)
		}
	}
	if n > 0 {
		if n > len(rest) {
			return event{}, fmt.Errorf("parse event: %w: inner body cut off", errFraming)
		}
		e.body = rest[:n]
	}
	return e, nil
}
