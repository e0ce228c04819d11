package realfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is one FreeSWITCH event with its values URL-decoded; a repeated header keeps its
// first value, as FreeSWITCH's own readers do.
type Event map[string]string

// Name is the Event-Name.
func (e Event) Name() string { return e["Event-Name"] }

// Stamp is Event-Date-Timestamp, FreeSWITCH's clock in µs.
func (e Event) Stamp() time.Time {
	us, _ := strconv.ParseInt(e["Event-Date-Timestamp"], 10, 64)
	return time.UnixMicro(us)
}

// Client is a small inbound event-socket client of the tests' own (no eslgo, no callconsent
// code): api commands one at a time, and every event of the subscription kept in order.
type Client struct {
	conn net.Conn
	br   *bufio.Reader

	cmdMu   sync.Mutex
	replies chan frame

	mu     sync.Mutex
	events []Event
	byLeg  map[string][]int // Unique-ID and variable_origination_uuid -> indexes in events
	notify chan struct{}
	err    error
}

type frame struct {
	h    map[string]string
	body string
}

// Dial connects to FreeSWITCH's event socket, authenticates and subscribes to events (plain).
func Dial(addr, password string, events ...string) (*Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &Client{conn: conn, br: bufio.NewReader(conn), replies: make(chan frame, 1), notify: make(chan struct{}), byLeg: map[string][]int{}}
	f, err := c.read()
	if err != nil || f.h["Content-Type"] != "auth/request" {
		conn.Close()
		return nil, fmt.Errorf("esl %s: no auth request (%v)", addr, err)
	}
	go c.readLoop()
	if r, err := c.command("auth " + password); err != nil || !strings.HasPrefix(r.h["Reply-Text"], "+OK") {
		conn.Close()
		return nil, fmt.Errorf("esl %s: auth: %v %q", addr, err, r.h["Reply-Text"])
	}
	if len(events) > 0 {
		if _, err := c.command("event plain " + strings.Join(events, " ")); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return c, nil
}

// Close says goodbye and closes the connection.
func (c *Client) Close() error {
	_, _ = c.command("exit")
	return c.conn.Close()
}

// API runs an api command and returns its body.
func (c *Client) API(cmd string) (string, error) {
	f, err := c.command("api " + cmd)
	return f.body, err
}

// Originate places a loopback call, as the shared README shows: the A-leg (uuid a, the
// "caller" running extension 7000, an 800 Hz beep) calls extension 5000, whose B-leg FreeSWITCH
// hands to callconsent. vars are extra origination variables (name=value, no commas).
func (c *Client) Originate(a, number string, vars ...string) error {
	v := append([]string{"origination_uuid=" + a, "origination_caller_id_number=" + number}, vars...)
	f, err := c.command("bgapi originate {" + strings.Join(v, ",") + "}loopback/5000/default 7000 XML default")
	if err == nil && !strings.HasPrefix(f.h["Reply-Text"], "+OK") {
		err = fmt.Errorf("originate: %s", f.h["Reply-Text"])
	}
	return err
}

// Keys sends DTMF on the A-leg; the loopback endpoint delivers it to the B-leg like a caller's key.
func (c *Client) Keys(a, digits string) error {
	body, err := c.API("uuid_send_dtmf " + a + " " + digits)
	if err == nil && !strings.HasPrefix(body, "+OK") {
		err = fmt.Errorf("uuid_send_dtmf: %s", strings.TrimSpace(body))
	}
	return err
}

// Hangup hangs the A-leg up, as the caller putting the phone down.
func (c *Client) Hangup(a string) error {
	_, err := c.API("uuid_kill " + a)
	return err
}

func (c *Client) command(cmd string) (frame, error) {
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	if _, err := io.WriteString(c.conn, cmd+"\n\n"); err != nil {
		return frame{}, err
	}
	select {
	case f := <-c.replies:
		return f, nil
	case <-time.After(10 * time.Second):
		return frame{}, fmt.Errorf("esl: no reply to %q", strings.Fields(cmd)[0])
	}
}

// Events returns the events received so far that match keep (nil: all).
func (c *Client) Events(keep func(Event) bool) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Event
	for _, e := range c.events {
		if keep == nil || keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// WaitEvent waits up to d for an event that matches keep and returns the first one.
func (c *Client) WaitEvent(d time.Duration, keep func(Event) bool) (Event, error) {
	return c.WaitLeg("", d, keep)
}

// WaitLeg is WaitEvent among the events of one channel: those whose Unique-ID or
// variable_origination_uuid is leg ("" looks at all). With hundreds of calls at once, scanning
// one call's events keeps the client ahead of FreeSWITCH, which drops a listener that falls
// 500 events behind.
func (c *Client) WaitLeg(leg string, d time.Duration, keep func(Event) bool) (Event, error) {
	deadline := time.After(d)
	for {
		c.mu.Lock()
		if leg == "" {
			for _, e := range c.events {
				if keep(e) {
					c.mu.Unlock()
					return e, nil
				}
			}
		}
		for _, i := range c.byLeg[leg] {
			if e := c.events[i]; keep(e) {
				c.mu.Unlock()
				return e, nil
			}
		}
		notify, err := c.notify, c.err
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-notify:
		case <-deadline:
			return nil, errors.New("esl: event not seen in time")
		}
	}
}

func (c *Client) readLoop() {
	for {
		f, err := c.read()
		if err != nil {
			c.mu.Lock()
			c.err = err
			close(c.notify)
			c.notify = make(chan struct{})
			c.mu.Unlock()
			return
		}
		switch f.h["Content-Type"] {
		case "command/reply", "api/response":
			c.replies <- f
		case "text/event-plain":
			e := parseEvent(f.body)
			c.mu.Lock()
			c.events = append(c.events, e)
			for _, leg := range []string{e["Unique-ID"], e["variable_origination_uuid"]} {
				if leg != "" {
					c.byLeg[leg] = append(c.byLeg[leg], len(c.events)-1)
				}
			}
			close(c.notify)
			c.notify = make(chan struct{})
			c.mu.Unlock()
		}
	}
}

func (c *Client) read() (frame, error) {
	h, err := readHeaders(c.br)
	if err != nil {
		return frame{}, err
	}
	f := frame{h: h}
	if n, _ := strconv.Atoi(h["Content-Length"]); n > 0 {
		b := make([]byte, n)
		if _, err := io.ReadFull(c.br, b); err != nil {
			return frame{}, err
		}
		f.body = string(b)
	}
	return f, nil
}

func readHeaders(br *bufio.Reader) (map[string]string, error) {
	h := map[string]string{}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\n")
		if line == "" {
			if len(h) == 0 {
				continue
			}
			return h, nil
		}
		k, v, _ := strings.Cut(line, ": ")
		if _, dup := h[k]; !dup {
			h[k] = v
		}
	}
}

func parseEvent(body string) Event {
	e := Event{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" {
			break
		}
		k, v, _ := strings.Cut(line, ": ")
		if _, dup := e[k]; dup {
			continue
		}
		if d, err := url.QueryUnescape(strings.ReplaceAll(v, "+", "%2B")); err == nil {
			v = d
		}
		e[k] = v
	}
	return e
}
