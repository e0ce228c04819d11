package fakefs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// urlSafe marks the bytes FreeSWITCH's URL encoder leaves alone in event values
// (README, "URL-encoding of event values"): everything printable except the listed
// specials; control bytes, DEL and non-ASCII are always encoded.
var urlSafe [256]bool

func init() {
	for c := 0x20; c < 0x7f; c++ {
		if strings.IndexByte(" #%&+:;<=>?@[\\]^{|}`\"", byte(c)) < 0 {
			urlSafe[c] = true
		}
	}
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

// appendEncoded appends s encoded like switch_url_encode: unsafe bytes become upper-case
// %XX, except a '%' already followed by two hex digits (FreeSWITCH does not double-encode).
func appendEncoded(dst []byte, s string) []byte {
	const hexdig = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case urlSafe[c]:
			dst = append(dst, c)
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			dst = append(dst, c)
		default:
			dst = append(dst, '%', hexdig[c>>4], hexdig[c&15])
		}
	}
	return dst
}

// encode returns s URL-encoded; it allocates only when something needs encoding.
func encode(s string) string {
	for i := 0; i < len(s); i++ {
		if !urlSafe[s[i]] {
			return string(appendEncoded(make([]byte, 0, len(s)+16), s))
		}
	}
	return s
}

const (
	goodbyeText  = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
	shutdownText = "The system is being shut down.\n"
	authRequest  = "Content-Type: auth/request\n\n"
)

// appendReply appends a command/reply; replies are never encoded and carry no Content-Length.
func appendReply(dst []byte, text string, extra ...string) []byte {
	dst = append(dst, "Content-Type: command/reply\nReply-Text: "...)
	dst = append(dst, text...)
	dst = append(dst, '\n')
	for _, h := range extra {
		dst = append(dst, h...)
		dst = append(dst, '\n')
	}
	return append(dst, '\n')
}

// appendAPI appends an api/response: Content-Type first, then Content-Length, raw body.
func appendAPI(dst []byte, body string) []byte {
	dst = append(dst, "Content-Type: api/response\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\n\n"...)
	return append(dst, body...)
}

// appendNotice appends a text/disconnect-notice. uuid != "" adds the outbound-socket
// headers (Controlled-Session-UUID, Content-Disposition) as in the transcripts.
func appendNotice(dst []byte, uuid, disposition, body string) []byte {
	dst = append(dst, "Content-Type: text/disconnect-notice\n"...)
	if uuid != "" {
		dst = append(dst, "Controlled-Session-UUID: "...)
		dst = append(dst, uuid...)
		dst = append(dst, "\nContent-Disposition: "...)
		dst = append(dst, disposition...)
		dst = append(dst, '\n')
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\n\n"...)
	return append(dst, body...)
}

// appendLingerNotice appends the notice sent after CHANNEL_HANGUP_COMPLETE when the
// socket asked for linger; secs < 0 means "linger forever".
func appendLingerNotice(dst []byte, uuid, chanName string, secs int) []byte {
	dst = append(dst, "Content-Type: text/disconnect-notice\nControlled-Session-UUID: "...)
	dst = append(dst, uuid...)
	dst = append(dst, "\nContent-Disposition: linger\nChannel-Name: "...)
	dst = append(dst, chanName...)
	dst = append(dst, "\nLinger-Time: "...)
	dst = strconv.AppendInt(dst, int64(secs), 10)
	return append(dst, "\nContent-Length: 0\n\n"...)
}

// command is one message the daemon sent: a command line, headers, optional body.
type command struct {
	line    string
	headers [][2]string
	body    string
}

// get returns the first header with that name (case-insensitive, like FreeSWITCH).
func (c *command) get(name string) string {
	for _, h := range c.headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// errBadCommand marks a malformed but fully consumed message: the connection survives
// and the client gets "-ERR command not found", as FreeSWITCH answers garbage.
var errBadCommand = errors.New("fakefs: malformed command")

const (
	maxHeaders = 64
	maxBody    = 1 << 20
)

// readCommand reads one message. Blank lines between messages are skipped. Errors other
// than errBadCommand are fatal for the connection (I/O error, line too long, bad length).
func readCommand(br *bufio.Reader) (*command, error) {
	var c command
	bad := false
	for {
		raw, err := br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return nil, fmt.Errorf("fakefs: line longer than %d bytes", br.Size())
			}
			return nil, err
		}
		line := strings.TrimRight(string(raw), "\r\n")
		if line == "" {
			if c.line == "" {
				continue // stray blank line between messages
			}
			break
		}
		if c.line == "" {
			c.line = strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.TrimSpace(k) != k || len(c.headers) >= maxHeaders {
			bad = true
			continue
		}
		c.headers = append(c.headers, [2]string{k, strings.TrimLeft(v, " ")})
	}
	if cl := c.get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > maxBody {
			return nil, fmt.Errorf("fakefs: bad Content-Length %q", cl)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		c.body = string(buf)
	}
	if bad {
		return &c, errBadCommand
	}
	return &c, nil
}
