package access

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"customer complaint 4711", "customer complaint 4711"},
		{"qa\x1b[2J", "qa\uFFFD[2J"},
		{"x\n99  2026-11-30  kari  listen  ok", "x 99  2026-11-30  kari  listen  ok"},
		{"a\u202Eb", "a\uFFFDb"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	} {
		if got := CleanText(c.in, 500); got != c.want {
			t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := strings.Repeat("æ", 128<<10)
	got := CleanText(long, MaxAuditText)
	if len(got) > MaxAuditText || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("clipped to %d bytes (valid %v)", len(got), utf8.ValidString(got))
	}
}
