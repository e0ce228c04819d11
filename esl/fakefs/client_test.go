package fakefs

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unit is one ESL message as received: its exact bytes, outer headers and body.
type unit struct {
	raw  []byte
	hdr  [][2]string
	body []byte
}

func (u unit) get(name string) string {
	for _, h := range u.hdr {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// fields returns the headers of an event body (or the outer ones for other messages).
func (u unit) fields() [][2]string {
	if u.get("Content-Type") != "text/event-plain" {
		return u.hdr
	}
	var out [][2]string
	for _, l := range strings.Split(string(u.body), "\n") {
		if l == "" {
			break
		}
		k, v, _ := strings.Cut(l, ": ")
		out = append(out, [2]string{k, v})
	}
	return out
}

func (u unit) field(name string) string {
	for _, h := range u.fields() {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

func (u unit) names() []string {
	var n []string
	for _, h := range u.fields() {
		n = append(n, h[0])
	}
	return n
}

// kind labels a unit like the transcripts' *_sequence: "event NAME [app]" or the reply.
func (u unit) kind() string {
	switch ct := u.get("Content-Type"); ct {
	case "text/event-plain":
		k := "event " + u.field("Event-Name")
		if a := u.field("Application"); a != "" {
			k += " " + a
		}
		return k
	case "command/reply":
		if u.get("Event-Name") == "CHANNEL_DATA" {
			return "connect-reply"
		}
		return "reply " + u.get("Reply-Text")
	case "text/disconnect-notice":
		return "notice " + u.get("Content-Disposition")
	default:
		return ct
	}
}

// readUnit reads one message with a strict framing check.
func readUnit(br *bufio.Reader) (unit, error) {
	var u unit
	var buf bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		buf.WriteString(line)
		if err != nil {
			return u, err
		}
		if line == "\n" {
			break
		}
		k, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), ": ")
		if !ok {
			return u, io.ErrUnexpectedEOF
		}
		u.hdr = append(u.hdr, [2]string{k, v})
	}
	if cl := u.get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil {
			return u, err
		}
		u.body = make([]byte, n)
		if _, err := io.ReadFull(br, u.body); err != nil {
			return u, err
		}
		buf.Write(u.body)
	}
	u.raw = buf.Bytes()
	return u, nil
}

func transcriptUnits(t *testing.T, name string) []unit {
	t.Helper()
	b, err := os.ReadFile("../../testdata/esl/" + name + ".recv.raw")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(bytes.NewReader(b))
	var out []unit
	for {
		u, err := readUnit(br)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, u)
	}
}

// rawClient is a tiny ESL client written for the tests (no eslgo).
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	got  []unit
}

func newRawClient(t *testing.T, conn net.Conn) *rawClient {
	return &rawClient{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return newRawClient(t, c)
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) read() unit {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	u, err := readUnit(c.br)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	c.got = append(c.got, u)
	return u
}

// until reads until pred matches and returns that unit.
func (c *rawClient) until(pred func(unit) bool) unit {
	c.t.Helper()
	for {
		if u := c.read(); pred(u) {
			return u
		}
	}
}

func (c *rawClient) expectEOF() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if u, err := readUnit(c.br); err != io.EOF {
		c.t.Fatalf("want EOF, got %q, %v", u.raw, err)
	}
}

func isEvent(name, app string) func(unit) bool {
	return func(u unit) bool {
		return u.field("Event-Name") == name && (app == "" || u.field("Application") == app)
	}
}

func sendmsg(app, arg, id string) string {
	s := "sendmsg\ncall-command: execute\nexecute-app-name: " + app + "\n"
	if arg != "" {
		s += "execute-app-arg: " + arg + "\n"
	}
	return s + "Event-UUID: " + id + "\n\n"
}
