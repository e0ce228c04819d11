package esl

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// A replay peer plays FreeSWITCH from a transcript: for each command we send it finds the
// transcript's matching command and writes FreeSWITCH's reply plus everything FreeSWITCH sent
// after it, byte for byte, up to the next reply. Event-UUIDs of sendmsg are mapped to ours, so
// Application-UUID matching is exercised for real.

// unit is one message FreeSWITCH sent, exactly as captured.
type unit struct {
	raw []byte
	ct  string
}

// splitUnits cuts a .recv.raw stream into messages.
func splitUnits(t testing.TB, data []byte) []unit {
	t.Helper()
	var units []unit
	for len(data) > 0 {
		end := bytes.Index(data, []byte("\n\n"))
		if end < 0 {
			t.Fatalf("transcript: unterminated header block")
		}
		n, ct := 0, ""
		for _, line := range strings.Split(string(data[:end]), "\n") {
			k, v, _ := strings.Cut(line, ": ")
			switch k {
			case "Content-Length":
				n, _ = strconv.Atoi(v)
			case "Content-Type":
				ct = v
			}
		}
		size := end + 2 + n
		units = append(units, unit{raw: data[:size], ct: ct})
		data = data[size:]
	}
	return units
}

type replay struct {
	t      testing.TB
	units  []unit
	cmds   []string // transcript commands, one per reply
	starts []int    // index in units of the reply to cmds[i]
	match  func(ours, theirs string) bool

	mu     sync.Mutex
	cursor int
	repl   []string // old, new pairs for strings.NewReplacer
	got    []string // the commands we received
}

func loadReplay(t testing.TB, name string, match func(ours, theirs string) bool) *replay {
	t.Helper()
	dir := filepath.Join("..", "testdata", "esl")
	recv, err := os.ReadFile(filepath.Join(dir, name+".recv.raw"))
	if err != nil {
		t.Fatal(err)
	}
	sent, err := os.ReadFile(filepath.Join(dir, name+".sent.raw"))
	if err != nil {
		t.Fatal(err)
	}
	r := &replay{t: t, units: splitUnits(t, recv), match: match}
	r.cmds = strings.Split(strings.TrimSuffix(string(sent), "\n\n"), "\n\n")
	for i, u := range r.units {
		if u.ct == typeReply || u.ct == typeAPI {
			r.starts = append(r.starts, i)
		}
	}
	if len(r.starts) != len(r.cmds) {
		t.Fatalf("%s: %d replies for %d commands", name, len(r.starts), len(r.cmds))
	}
	return r
}

// readCommand reads one command block (and its body, if any) from us.
func readCommand(br *bufio.Reader) (string, error) {
	var lines []string
	n := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ": "); ok && strings.EqualFold(k, "Content-Length") {
			n, _ = strconv.Atoi(v)
		}
		lines = append(lines, line)
	}
	if _, err := io.ReadFull(br, make([]byte, n)); err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}

// headerOf returns a header of a command, case-insensitively (eslgo canonicalises names).
func headerOf(cmd, name string) string {
	for _, line := range strings.Split(cmd, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// serve speaks to nc until the transcript or the connection ends. With greet it first sends
// what FreeSWITCH sent before any command (auth/request on inbound connections).
func (r *replay) serve(nc net.Conn, greet bool) {
	defer nc.Close()
	if greet {
		for _, u := range r.units[:r.starts[0]] {
			nc.Write(u.raw)
		}
	}
	br := bufio.NewReader(nc)
	for {
		cmd, err := readCommand(br)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.got = append(r.got, cmd)
		k := -1
		for i := r.cursor; i < len(r.cmds); i++ {
			if r.match(cmd, r.cmds[i]) {
				k = i
				break
			}
		}
		if k < 0 {
			r.mu.Unlock()
			nc.Write([]byte(cannedReply(cmd)))
			continue
		}
		if strings.HasPrefix(cmd, "sendmsg") {
			r.repl = append(r.repl, headerOf(r.cmds[k], "Event-UUID"), headerOf(cmd, "Event-UUID"))
		}
		r.cursor = k + 1
		end := len(r.units)
		if k+1 < len(r.starts) {
			end = r.starts[k+1]
		}
		rep := strings.NewReplacer(r.repl...)
		r.mu.Unlock()
		for _, u := range r.units[r.starts[k]:end] {
			if _, err := nc.Write([]byte(rep.Replace(string(u.raw)))); err != nil {
				return
			}
		}
		if k == len(r.cmds)-1 {
			return // FreeSWITCH closes after the last message
		}
	}
}

// commands returns what we sent so far.
func (r *replay) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// cannedReply answers commands the transcript does not have (liveness probes, cleanup).
func cannedReply(cmd string) string {
	if strings.HasPrefix(cmd, "api ") {
		return "Content-Type: api/response\nContent-Length: 3\n\n+OK"
	}
	return "Content-Type: command/reply\nReply-Text: +OK\n\n"
}

// matchOutbound matches our outbound commands to the probe's by kind: the probe subscribed in
// another order (myevents before linger), and our sendmsg carries other ids and headers.
func matchOutbound(ours, theirs string) bool { return outboundKind(ours) == outboundKind(theirs) }

func outboundKind(cmd string) string {
	verb, _, _ := strings.Cut(strings.SplitN(cmd, "\n", 2)[0], " ")
	switch verb {
	case "linger", "myevents", "event":
		return "setup"
	case "sendmsg":
		return "sendmsg " + headerOf(cmd, "execute-app-name")
	}
	return verb
}

// matchInbound matches control commands by their text; subscriptions only by kind.
func matchInbound(ours, theirs string) bool {
	if strings.HasPrefix(ours, "event plain") && strings.HasPrefix(theirs, "event plain") {
		return true
	}
	return strings.TrimSpace(ours) == strings.TrimSpace(theirs)
}
