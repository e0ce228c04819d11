// Package esl connects callconsent to FreeSWITCH's event socket (ESL): an outbound server that
// hands each call to the consent flow as a consent.Channel, and an inbound control connection
// that implements consent.Control.
//
// Messages are built with eslgo's command package, but the wire is read by this package's own
// framing reader: eslgo v1.5.2 offers no exported way to run its Conn on a net.Conn we accept
// ourselves, and its reader panics on a negative Content-Length, drops events with unusual header
// keys, hands replies to the wrong command and dies silently on unknown content types (see
// /work/shared/ESL-NOTES.md, bugs 1-7). One ordered reader per connection avoids all of those.
package esl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/percipia/eslgo/command"
)

// Bounds on what a peer may send: any local account can connect to our outbound port, and
// each bound holds once per connection, so together with the call limit (OutboundServer.MaxCalls)
// they bound the memory a hostile peer can make us hold. They are what FreeSWITCH really sends
// on these connections, with room to spare: in the transcripts of testdata/esl (FreeSWITCH 1.11,
// loopback calls), the largest body is 5,357 bytes (a CHANNEL_HANGUP_COMPLETE, on both kinds of
// connection), the largest header block 3,848 bytes in 151 lines (the connect reply), the
// longest line 1,870 bytes (an api/response); a SIP channel adds its SDP and sip_* variables,
// a few KiB more. A frame over a bound is a framing error: the connection closes and the call
// takes its fail-safe.
const (
	// maxLineBytes is one header line (a long SDP variable fits).
	maxLineBytes = 32 << 10
	// readBufBytes is each connection's read buffer. Frame headers are short lines; a longer
	// line is gathered piece by piece up to maxLineBytes (readLine). Thousands of calls are
	// open at once, so the buffer is most of a call's memory.
	readBufBytes   = 4 << 10
	maxHeaderBytes = 64 << 10 // one header block
	maxHeaderLines = 1024     // lines of one header block, each a map entry
	maxBodyBytes   = 64 << 10 // one Content-Length body
)

// Content types FreeSWITCH sends.
const (
	typeReply      = "command/reply"
	typeAPI        = "api/response"
	typeEvent      = "text/event-plain"
	typeAuth       = "auth/request"
	typeDisconnect = "text/disconnect-notice"
	typeRude       = "text/rude-rejection"
)

// errFraming marks a frame we cannot parse; the connection is then out of sync and must close.
var errFraming = errors.New("esl: malformed frame")

// header is a parsed header block. Values are kept raw (URL-encoded where FreeSWITCH encodes);
// the first occurrence of a repeated name wins (Hangup-Cause repeats in HANGUP_COMPLETE). Names
// are case-insensitive, as in FreeSWITCH's own parser (switch_event compares them with
// strcasecmp): they are stored lower-case, so that a peer writing "content-length" frames its
// body as FreeSWITCH would, instead of having the body read as further frames.
type header map[string]string

// Lower-case names of the headers that frame a message.
const (
	hContentLength = "content-length"
	hContentType   = "content-type"
	hReplyText     = "reply-text"
)

// raw returns the undecoded value of name, in any case.
func (h header) raw(name string) string { return h[strings.ToLower(name)] }

// get returns the value of name, URL-decoded tolerantly.
func (h header) get(name string) string { return decodeValue(h.raw(name)) }

// frame is one ESL message: a header block and an optional Content-Length body.
type frame struct {
	h    header
	body []byte
}

// contentType is the frame's Content-Type.
func (f frame) contentType() string { return f.h[hContentType] }

// replyText is what a command/reply or api/response says: Reply-Text (decoded, because the
// connect reply encodes it as %2BOK%0A) or else the body.
func (f frame) replyText() string {
	if v, ok := f.h[hReplyText]; ok {
		return strings.TrimSpace(decodeValue(v))
	}
	return string(f.body)
}

// ok reports whether the reply starts with +OK.
func (f frame) ok() bool { return strings.HasPrefix(f.replyText(), "+OK") }

// wireMessage renders cmd as FreeSWITCH reads it: LF line ends (eslgo's builders use CRLF; the
// wire we captured from FreeSWITCH uses LF, and our arguments never contain CR or LF, see
// checkArg), no trailing space after an argument-less command (eslgo's API builder leaves one),
// and the blank line that ends it.
func wireMessage(cmd command.Command) string {
	first, rest, _ := strings.Cut(strings.ReplaceAll(cmd.BuildMessage(), "\r\n", "\n"), "\n")
	msg := strings.TrimRight(first, " ")
	if rest != "" {
		msg += "\n" + rest
	}
	return msg + "\n\n"
}

// readFrame reads one frame. It returns io.EOF only on a clean end between frames; a peer that
// stops mid-frame gives io.ErrUnexpectedEOF, and bad framing an error wrapping errFraming.
func readFrame(r *bufio.Reader) (frame, error) {
	for {
		h, err := readHeaderBlock(r, false)
		if err != nil {
			return frame{}, err
		}
		if len(h) == 0 {
			continue // a stray blank line between frames carries nothing
		}
		f := frame{h: h}
		n, err := contentLength(h[hContentLength])
		if err != nil {
			return frame{}, err
		}
		if n > 0 {
			body, err := readBody(r, n)
			if err != nil {
				return frame{}, err
			}
			f.body = body
		}
		return f, nil
	}
}

// readBody reads n bytes. The body grows with the data that actually arrives, a buffer at a
// time, so a peer announcing a large body and sending nothing makes us allocate nothing.
func readBody(r *bufio.Reader, n int) ([]byte, error) {
	body := make([]byte, 0, min(n, readBufBytes))
	for len(body) < n {
		if len(body) == cap(body) { // double, at most to n
			body = slices.Grow(body, min(cap(body), n-len(body)))
		}
		m, err := r.Read(body[len(body):min(cap(body), n)])
		body = body[:len(body)+m]
		if err != nil && len(body) < n {
			return nil, unexpectedEOF(err)
		}
	}
	return body, nil
}

// contentLength validates a Content-Length value ("" when absent): a negative or huge length
// would make eslgo panic or allocate without bound (bug 6); here it is a framing error.
func contentLength(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > maxBodyBytes {
		return 0, fmt.Errorf("%w: bad content-length", errFraming)
	}
	return n, nil
}

// readHeaderBlock reads header lines up to a blank line. With atEOFok, the end of input also
// ends the block (event bodies whose final blank line is missing).
func readHeaderBlock(r *bufio.Reader, atEOFok bool) (header, error) {
	h := header{}
	total, lines := 0, 0
	for {
		line, err := readLine(r)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return nil, fmt.Errorf("%w: header line too long", errFraming)
		case err != nil && err != io.EOF:
			return nil, err
		case err == io.EOF && len(line) == 0 && atEOFok:
			return h, nil
		case err == io.EOF && len(line) == 0 && total == 0:
			return nil, io.EOF // clean end between frames
		case err == io.EOF && !atEOFok:
			return nil, io.ErrUnexpectedEOF
		}
		total += len(line)
		if total > maxHeaderBytes {
			return nil, fmt.Errorf("%w: header block too long", errFraming)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return h, nil
		}
		k, v, ok := splitHeaderLine(line)
		if !ok {
			return nil, fmt.Errorf("%w: header line without colon", errFraming)
		}
		if lines++; lines > maxHeaderLines {
			return nil, fmt.Errorf("%w: too many header lines", errFraming)
		}
		if k = strings.ToLower(k); !has(h, k) {
			h[k] = v
		}
		if err != nil { // last line of input without a newline
			return h, nil
		}
	}
}

// readLine reads up to and including '\n' like ReadSlice, but gathers a line longer than the
// reader's buffer, up to maxLineBytes; beyond that it returns bufio.ErrBufferFull.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	long := append([]byte(nil), line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		if line, err = r.ReadSlice('\n'); len(long)+len(line) > maxLineBytes {
			return nil, bufio.ErrBufferFull
		}
		long = append(long, line...)
	}
	return long, err
}

// splitHeaderLine splits "Key: Value". Keys are taken as they are: FreeSWITCH does not encode
// them and variable names may hold '[', '/' or non-ASCII bytes, which textproto rejects (bug 7).
func splitHeaderLine(line []byte) (string, string, bool) {
	i := bytes.Index(line, []byte(": "))
	if i > 0 {
		return string(line[:i]), string(line[i+2:]), true
	}
	i = bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	return string(line[:i]), string(bytes.TrimLeft(line[i+1:], " ")), true
}

func has(h header, k string) bool { _, ok := h[k]; return ok }

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
