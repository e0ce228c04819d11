package esl

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// decodeValue URL-decodes an ESL header value the way FreeSWITCH encodes it: %XX escapes only,
// '+' stays '+'. Unlike url.PathUnescape (which eslgo's GetHeader uses and which turns a whole
// value into "" on one bad escape, bug 7), a '%' not followed by two hex digits is kept as it is.
func decodeValue(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// newUUID returns a random (version 4) UUID, the form FreeSWITCH uses, so that transcripts and
// logs look alike and an Event-UUID has the 36 characters FreeSWITCH expects.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// checkArg refuses command arguments that could end an ESL header early and inject a command of
// their own, or that FreeSWITCH would split at a space.
func checkArg(what, s string, spaceOK bool) error {
	if s == "" {
		return fmt.Errorf("esl: empty %s", what)
	}
	if strings.ContainsAny(s, "\r\n\x00") || (!spaceOK && strings.ContainsAny(s, " \t")) {
		return fmt.Errorf("esl: %s contains a forbidden character", what)
	}
	if len(s) > 2000 { // eslgo switches to a body above 2048 bytes; we never need that
		return fmt.Errorf("esl: %s too long", what)
	}
	return nil
}
