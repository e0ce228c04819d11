package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// startControlSocket serves the control socket of a daemon that has nothing else open: enough
// for requests that need no FreeSWITCH and no database (an unknown op is answered by the
// socket's own code).
func startControlSocket(t *testing.T, lim ctlLimits) (*daemon, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	d := newDaemon(testConfig(t), slog.New(slog.NewTextHandler(logs, nil)))
	d.ctl = lim
	ln, err := d.bindControlSocket()
	if err != nil {
		t.Fatal(err)
	}
	d.serveControlSocket(context.Background(), ln)
	t.Cleanup(func() { d.Close() })
	return d, logs
}

// ctlDial connects to the daemon's control socket.
func ctlDial(t *testing.T, d *daemon) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("unix", d.cfg.ControlSocket, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ctlAnswer reads the daemon's one-line answer on c within wait.
func ctlAnswer(t *testing.T, c net.Conn, wait time.Duration) ctlResponse {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		t.Fatalf("no answer within %s: %v", wait, err)
	}
	var resp ctlResponse
	if err := json.Unmarshal(line, &resp); err != nil {
		t.Fatalf("answer %q: %v", line, err)
	}
	return resp
}

// ctlPing sends a request the socket answers itself and checks it is answered within wait.
func ctlPing(t *testing.T, d *daemon, wait time.Duration) {
	t.Helper()
	c := ctlDial(t, d)
	c.Write([]byte(`{"op":"ping"}` + "\n"))
	if resp := ctlAnswer(t, c, wait); !strings.Contains(resp.Error, `unknown op "ping"`) {
		t.Fatalf("ping answered %+v", resp)
	}
}

// The process runs out of file descriptors (a flood of connections to the outbound port):
// Accept on the control socket fails with EMFILE. The loop logs it and retries with backoff,
// and the request that waited in the listen queue is answered once descriptors are free
// again. Before, the first failed Accept ended the loop for good, without a log line, and
// status and withdraw hung until a restart.
func TestControlSocket_AcceptErrorRetried(t *testing.T) {
	d, logs := startControlSocket(t, ctlLimits{})
	ctlPing(t, d, 5*time.Second)

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	highest := 0
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > highest {
			highest = fd
		}
	}
	// Leave a margin for descriptors opened meanwhile, then take every free one below it.
	lim := syscall.Rlimit{Cur: uint64(highest + 64), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip("cannot lower RLIMIT_NOFILE:", err)
	}
	var hog []*os.File
	release := func() {
		for _, f := range hog {
			f.Close()
		}
		hog = nil
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	}
	defer release()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break // EMFILE: the process is out of descriptors
		}
		hog = append(hog, f)
	}
	hog[len(hog)-1].Close() // one for the client's end; the daemon's Accept then has none
	hog = hog[:len(hog)-1]
	c, err := net.DialTimeout("unix", d.cfg.ControlSocket, time.Second)
	if err != nil {
		release()
		t.Fatalf("dial with one descriptor left: %v", err)
	}
	defer c.Close()
	c.Write([]byte(`{"op":"ping"}` + "\n"))
	waitUntil(t, "a failed accept logged", func() bool { return strings.Contains(logs.String(), "accept failed") })
	release()

	if resp := ctlAnswer(t, c, 5*time.Second); !strings.Contains(resp.Error, `unknown op "ping"`) {
		t.Fatalf("the request that waited was answered %+v", resp)
	}
	ctlPing(t, d, 5*time.Second)
	for _, want := range []string{"control socket: accept failed; retrying", "too many open files", "control socket: accepting again"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// A request line is bounded: a client that sends megabytes without a newline gets one clear
// answer after MaxRequest bytes, and the daemon stops reading (before, a 2 GiB line grew it
// to 2.5 GB).
func TestControlSocket_RequestBound(t *testing.T) {
	d, _ := startControlSocket(t, ctlLimits{})
	c := ctlDial(t, d)
	const flood = 32 << 20
	wrote := make(chan int, 1)
	go func() {
		chunk := []byte(strings.Repeat("x", 64<<10))
		n := 0
		c.SetWriteDeadline(time.Now().Add(20 * time.Second))
		for n < flood {
			m, err := c.Write(chunk)
			n += m
			if err != nil {
				break
			}
		}
		wrote <- n
	}()
	resp := ctlAnswer(t, c, 5*time.Second)
	if resp.Code != consent.EINVALID || resp.Error != "control socket: request longer than 65536 bytes" {
		t.Errorf("answer %+v", resp)
	}
	// What the daemon did not read stays in the socket's buffers (a few hundred KiB) until it
	// closes the connection; then the client's writes fail.
	if n := <-wrote; n >= 8<<20 {
		t.Errorf("the daemon took %d bytes of one request line", n)
	}
	ctlPing(t, d, 5*time.Second)
}

// Connections are bounded: beyond MaxConns the daemon answers as many more "busy" instead of
// piling up goroutines, and closes any further one at once; a client that connects and says
// nothing holds its slot for RequestWait only.
func TestControlSocket_ConnectionBound(t *testing.T) {
	d, _ := startControlSocket(t, ctlLimits{MaxConns: 2, RequestWait: 500 * time.Millisecond})
	idle := []net.Conn{ctlDial(t, d), ctlDial(t, d)}
	time.Sleep(50 * time.Millisecond) // both accepted and waiting for their request
	busy := ctlDial(t, d)
	if _, err := busy.Write([]byte(`{"op":"ping"}` + "\n")); err != nil {
		t.Errorf("a request beyond the bound could not be written: %v", err)
	}
	if resp := ctlAnswer(t, busy, time.Second); resp.Code != consent.ECONFLICT || !strings.Contains(resp.Error, "busy") {
		t.Errorf("request beyond the bound answered %+v, want busy", resp)
	}
	refused := []net.Conn{ctlDial(t, d), ctlDial(t, d)} // the refusers' share, waiting for a request
	time.Sleep(50 * time.Millisecond)
	closed := ctlDial(t, d)
	closed.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := closed.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("beyond twice the bound: read %d, %v; want the connection closed at once", n, err)
	}
	for _, c := range refused {
		if resp := ctlAnswer(t, c, 2*time.Second); !strings.Contains(resp.Error, "busy") {
			t.Errorf("silent client beyond the bound answered %+v", resp)
		}
	}
	for _, c := range idle {
		if resp := ctlAnswer(t, c, 2*time.Second); !strings.Contains(resp.Error, "no complete request within 500ms") {
			t.Errorf("silent client answered %+v", resp)
		}
	}
	ctlPing(t, d, time.Second)
}

// A panic while a request is handled is answered as an internal error, logged and counted;
// the socket goes on serving. (A withdrawal on a daemon without its withdrawer dereferences
// nil: in a running daemon it would be any bug in the withdrawal path.)
func TestControlSocket_PanicRecovered(t *testing.T) {
	d, logs := startControlSocket(t, ctlLimits{})
	c := ctlDial(t, d)
	c.Write([]byte(`{"op":"withdraw","withdraw":{"call":"6f1c2a4e-9d3b-4c7a-8e21-0b5d7f3a9c11","reason":"t"}}` + "\n"))
	if resp := ctlAnswer(t, c, 5*time.Second); resp.Code != consent.EINTERNAL || !strings.Contains(resp.Error, "recovered panic") {
		t.Errorf("answer %+v", resp)
	}
	ctlPing(t, d, 5*time.Second)
	var metrics strings.Builder
	d.panics.writeText(&metrics)
	if !strings.Contains(metrics.String(), `callconsent_panics_recovered_total{loop="control-socket"} 1`) {
		t.Errorf("panic not counted:\n%s", metrics.String())
	}
	if a, ok := d.panics.alarm(); !ok || a.Kind != alarmKindPanic || a.Count != 1 || !strings.Contains(a.Message, "control-socket") {
		t.Errorf("alarm %+v, %v", a, ok)
	}
	if !strings.Contains(logs.String(), "panic recovered") || !strings.Contains(logs.String(), "nil pointer dereference") {
		t.Errorf("log:\n%s", logs.String())
	}
}
