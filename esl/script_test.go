package esl

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// A script peer is a FreeSWITCH the test drives by hand: it answers connect with the real
// connect reply of a-consent, acknowledges the subscriptions, and then the test reads each
// command and writes whatever bytes the case needs.

const scriptUUID = "260cc426-4b20-4054-b379-5ba800345a1c"

type script struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

const okReply = "Content-Type: command/reply\nReply-Text: +OK\n\n"

// connectReply is FreeSWITCH's real answer to connect (CHANNEL_DATA headers, no body).
func connectReply(t testing.TB) string {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "esl", "a-consent-outbound.recv.raw"))
	if err != nil {
		t.Fatal(err)
	}
	return string(splitUnits(t, data)[0].raw)
}

// scriptCall starts a server whose handler runs flow, connects a script peer and completes the
// setup; flow's return ends the handler.
func scriptCall(t *testing.T, configure func(*OutboundServer), flow func(ctx context.Context, ch consent.Channel)) (*script, <-chan struct{}) {
	t.Helper()
	done := make(chan struct{})
	s := NewOutboundServer("127.0.0.1:0", func(ctx context.Context, ch consent.Channel) {
		defer close(done)
		flow(ctx, ch)
	}, testLogger(t))
	s.CommandTimeout = time.Second
	s.RecordStopGrace = 200 * time.Millisecond
	s.ShutdownTimeout = time.Second
	if configure != nil {
		configure(s)
	}
	must(t, s.Open(context.Background()))
	t.Cleanup(func() { s.Close() })
	return dialScript(t, s, connectReply(t)), done
}

func dialScript(t testing.TB, s *OutboundServer, connect string) *script {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	must(t, err)
	t.Cleanup(func() { nc.Close() })
	p := &script{t: t, nc: nc, br: bufio.NewReader(nc)}
	p.expect("connect")
	p.write(connect)
	for _, want := range []string{"linger 30", "myevents plain", "event plain RECORD_START RECORD_STOP"} {
		p.expect(want)
		p.write(okReply)
	}
	return p
}

// next reads our next command; "" when the connection ended.
func (p *script) next() string {
	p.t.Helper()
	_ = p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	cmd, err := readCommand(p.br)
	if err != nil {
		return ""
	}
	return cmd
}

// expect reads the next command and checks its first line (or, for sendmsg, its app name).
func (p *script) expect(want string) string {
	p.t.Helper()
	cmd := p.next()
	first := strings.SplitN(cmd, "\n", 2)[0]
	if app := headerOf(cmd, "execute-app-name"); app != "" {
		first = app
	}
	if first != want {
		p.t.Fatalf("got command %q, want %q", cmd, want)
	}
	return cmd
}

func (p *script) write(parts ...string) {
	p.t.Helper()
	for _, s := range parts {
		if _, err := p.nc.Write([]byte(s)); err != nil {
			p.t.Fatalf("peer write: %v", err)
		}
	}
}

// eofAfter reports whether the peer sees the connection closed within d.
func (p *script) eofAfter(d time.Duration) bool {
	_ = p.nc.SetReadDeadline(time.Now().Add(d))
	for {
		if _, err := readCommand(p.br); err != nil {
			return !strings.Contains(err.Error(), "timeout")
		}
	}
}

// evFrame renders a text/event-plain frame for this call; kv are header pairs (values encoded).
func evFrame(name string, kv ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Event-Name: %s\nUnique-ID: %s\n", name, scriptUUID)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, "%s: %s\n", kv[i], kv[i+1])
	}
	b.WriteString("\n")
	return fmt.Sprintf("Content-Length: %d\nContent-Type: text/event-plain\n\n%s", b.Len(), b.String())
}

// complete is the EXECUTE_COMPLETE of the sendmsg cmd.
func complete(cmd string, kv ...string) string {
	kv = append([]string{"Answer-State", "answered", "Application", headerOf(cmd, "execute-app-name")}, kv...)
	return evFrame("CHANNEL_EXECUTE_COMPLETE", append(kv, "Application-UUID", headerOf(cmd, "Event-UUID"))...)
}

// wait waits for a flow to end.
func wait(t testing.TB, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("call flow did not end")
	}
}
