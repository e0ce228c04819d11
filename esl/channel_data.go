package esl

import "strings"

// callData is what a channel reads of the connect reply (CHANNEL_DATA) after its setup: the
// caller id and the channel variables, values still encoded, keys lower-case as header stores
// them. It is one string of "key\nvalue\n" pairs (neither holds a newline: both come from one
// header line) instead of the reply's map of some 150 headers, because a call keeps it for its
// whole life and thousands of calls are up at once: the map and its strings were the largest
// part of a call's memory in conversation (issue 13, target 8).
type callData string

// keepData reports whether a connect reply header is one a channel reads later.
func keepData(k string) bool {
	return strings.HasPrefix(k, variablePrefix) || k == "channel-caller-id-number" || k == "caller-caller-id-number"
}

func newCallData(h header) callData {
	n := 0
	for k, v := range h {
		if keepData(k) {
			n += len(k) + len(v) + 2
		}
	}
	var b strings.Builder
	b.Grow(n)
	for k, v := range h {
		if keepData(k) {
			b.WriteString(k)
			b.WriteByte('\n')
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return callData(b.String())
}

// raw returns the undecoded value of name, in any case, as header.raw does.
func (d callData) raw(name string) (string, bool) {
	name = strings.ToLower(name)
	for s := string(d); s != ""; {
		k, rest, _ := strings.Cut(s, "\n")
		v, rest, _ := strings.Cut(rest, "\n")
		if k == name {
			return v, true
		}
		s = rest
	}
	return "", false
}

// get returns the value of name, URL-decoded tolerantly.
func (d callData) get(name string) string { v, _ := d.raw(name); return decodeValue(v) }
