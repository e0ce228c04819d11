package main

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The hostile peers of TestHostilePeers: local accounts that connect to the daemon's outbound
// port and pose as FreeSWITCH handing it calls, each misbehaving in its own way.

// transcriptUUID is the call UUID in testdata/esl/a-consent-outbound's connect reply.
const transcriptUUID = "260cc426-4b20-4054-b379-5ba800345a1c"

// hostileCounts is what the peers saw.
type hostileCounts struct {
	served      atomic.Int32 // taken on as a call (linger, myevents, ...)
	turnedAway  atomic.Int32 // told to transfer to the employee at once, then closed
	closedAtAll atomic.Int32 // closed before a command
	wrong       atomic.Int32 // anything else: a wrong command to a call turned away
	mu          sync.Mutex
	slowest     time.Duration // longest a peer waited for the daemon to close its socket
	sample      string        // one wrong exchange, for the failure message
}

func (c *hostileCounts) closedAfter(d time.Duration) {
	c.mu.Lock()
	c.slowest = max(c.slowest, d)
	c.mu.Unlock()
}

// hostile is one peer connection.
type hostile struct {
	t    *testing.T
	nc   net.Conn
	br   *bufio.Reader
	uuid string
	at   time.Time
}

func dialHostile(t *testing.T, addr string) *hostile {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Errorf("dial %s: %v", addr, err)
		return nil
	}
	return &hostile{t: t, nc: nc, br: bufio.NewReader(nc), uuid: randomUUID(), at: time.Now()}
}

// command reads the daemon's next command ("" once the socket is closed).
func (h *hostile) command() string {
	var b strings.Builder
	for {
		line, err := h.br.ReadString('\n')
		if err != nil {
			return ""
		}
		if line == "\n" && b.Len() > 0 {
			return b.String()
		}
		b.WriteString(line)
	}
}

// untilClosed reads whatever comes until the daemon closes the socket, at most d.
func (h *hostile) untilClosed(d time.Duration) bool {
	_ = h.nc.SetReadDeadline(time.Now().Add(d))
	for {
		if _, err := h.br.ReadByte(); err != nil {
			return !strings.Contains(err.Error(), "timeout")
		}
	}
}

// connectReply is FreeSWITCH's real reply to connect, for this peer's own call UUID.
func (h *hostile) connectReply() string {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "esl", "a-consent-outbound.recv.raw"))
	if err != nil {
		h.t.Fatal(err)
	}
	reply, _, _ := strings.Cut(string(data), "\n\n")
	return strings.ReplaceAll(reply, transcriptUUID, h.uuid) + "\n\n"
}

// stall is a peer that takes the call on and acknowledges every command and liveness probe,
// but completes no application: only the daemon's own deadlines end it. It reports how the
// daemon dealt with it.
func (h *hostile) stall(n *hostileCounts) {
	defer h.nc.Close()
	switch first := h.command(); first {
	case "":
		n.closedAtAll.Add(1)
		return
	case "connect\n":
	default:
		n.note(&n.wrong, "first command "+first)
		return
	}
	h.nc.Write([]byte(h.connectReply()))
	next := h.command()
	switch {
	case next == "linger 30\n":
		n.served.Add(1)
		for cmd := next; cmd != ""; cmd = h.command() {
			reply := "Content-Type: command/reply\nReply-Text: +OK\n\n"
			if cmd == "api status\n" {
				reply = "Content-Type: api/response\nContent-Length: 3\n\nUP\n"
			}
			h.nc.Write([]byte(reply))
		}
		n.closedAfter(time.Since(h.at))
	case strings.HasPrefix(next, "sendmsg\n") && strings.Contains(strings.ToLower(next), "\nexecute-app-name: transfer\n") &&
		strings.Contains(strings.ToLower(next), "\nexecute-app-arg: 6000 xml default\n"):
		h.nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK\n\n"))
		if h.untilClosed(5 * time.Second) {
			n.turnedAway.Add(1)
		} else {
			n.note(&n.wrong, "turned away but not closed")
		}
	default:
		n.note(&n.wrong, "after connect: "+next)
	}
}

func (n *hostileCounts) note(c *atomic.Int32, what string) {
	c.Add(1)
	n.mu.Lock()
	n.sample = what
	n.mu.Unlock()
}

// idle connects and says nothing.
func (h *hostile) idle(n *hostileCounts) {
	defer h.nc.Close()
	if h.untilClosed(15 * time.Second) {
		n.closedAfter(time.Since(h.at))
	} else {
		n.note(&n.wrong, "an idle peer kept its socket for 15 s")
	}
}

// slow answers connect one byte every 100 ms.
func (h *hostile) slow(n *hostileCounts) {
	defer h.nc.Close()
	if h.command() != "connect\n" {
		return
	}
	for _, b := range []byte(h.connectReply()) {
		if _, err := h.nc.Write([]byte{b}); err != nil {
			n.closedAfter(time.Since(h.at))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.note(&n.wrong, "a byte-by-byte connect reply was read to its end")
}

// huge answers connect with a frame of 16 MiB, in its body or its header block, and reports
// how much of it the daemon took before it closed the socket.
func (h *hostile) huge(n *hostileCounts, inHeader bool) {
	defer h.nc.Close()
	if h.command() != "connect\n" {
		return
	}
	const size = 16 << 20
	head, chunk := "Content-Type: command/reply\nContent-Length: 16777216\n\n", strings.Repeat("x", 64<<10)
	if inHeader {
		head, chunk = "Content-Type: command/reply\n", strings.Repeat("X-Pad: 0123456789abcdef\n", (64<<10)/24)
	}
	h.nc.Write([]byte(head))
	for sent := 0; sent < size; sent += len(chunk) {
		_ = h.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := h.nc.Write([]byte(chunk)); err != nil {
			n.closedAfter(time.Since(h.at))
			return
		}
	}
	n.note(&n.wrong, fmt.Sprintf("a 16 MiB frame (in the header: %v) was read to its end", inHeader))
}

// storm takes the call on and then sends RECORD_START/RECORD_STOP pairs for distinct paths as
// fast as the daemon reads them, until it closes the socket.
func (h *hostile) storm(n *hostileCounts, events *atomic.Int64) {
	defer h.nc.Close()
	if h.command() != "connect\n" {
		return
	}
	h.nc.Write([]byte(h.connectReply()))
	for range 3 { // linger, myevents, event
		h.command()
		h.nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK\n\n"))
	}
	go func() { // the daemon's commands go unanswered; read them so that they never block it
		for h.command() != "" {
		}
	}()
	var batch strings.Builder
	for i := 0; ; i++ {
		batch.Reset()
		for j := range 100 {
			path := fmt.Sprintf("/rec/%s/%d-%d.wav", h.uuid, i, j)
			for _, name := range []string{"RECORD_START", "RECORD_STOP"} {
				body := "Event-Name: " + name + "\nUnique-ID: " + h.uuid + "\nRecord-File-Path: " + path + "\nvariable_record_ms: 1000\n\n"
				fmt.Fprintf(&batch, "Content-Length: %d\nContent-Type: text/event-plain\n\n%s", len(body), body)
			}
		}
		_ = h.nc.SetWriteDeadline(time.Now().Add(15 * time.Second))
		if _, err := h.nc.Write([]byte(batch.String())); err != nil {
			n.closedAfter(time.Since(h.at))
			return
		}
		events.Add(200)
	}
}

func randomUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
