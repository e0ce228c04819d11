package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// handlerFuncs is a Handler of functions; a nil one panics as a nil function does.
type handlerFuncs struct {
	withdraw func(context.Context, consent.WithdrawRequest) (consent.WithdrawResult, error)
	status   func() *Status
}

func (h handlerFuncs) Withdraw(ctx context.Context, req consent.WithdrawRequest) (consent.WithdrawResult, error) {
	return h.withdraw(ctx, req)
}

func (h handlerFuncs) Status() *Status { return h.status() }

// testServer is a Server on a socket in a temporary folder, logging to a file.
type testServer struct {
	*Server
	path string
	log  *os.File // read with ReadAt, which needs no new descriptor (a test runs out of them)
}

// startServer serves h on a fresh socket; configure, when set, sets the Server's fields
// before it opens.
func startServer(t *testing.T, h Handler, configure func(*Server)) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{path: filepath.Join(dir, "run", "control.sock")}
	var err error
	if ts.log, err = os.Create(filepath.Join(dir, "log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.log.Close() })
	ts.Server = NewServer(ts.path, h, slog.New(slog.NewTextHandler(ts.log, nil)))
	if configure != nil {
		configure(ts.Server)
	}
	if err := ts.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Close() })
	return ts
}

// logs is what the server logged so far.
func (ts *testServer) logs(t *testing.T) string {
	t.Helper()
	fi, err := ts.log.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, fi.Size())
	if _, err := ts.log.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dial connects to the server's socket.
func (ts *testServer) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("unix", ts.path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAnswer reads the server's one-line answer on c within wait.
func readAnswer(t *testing.T, c net.Conn, wait time.Duration) Response {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		t.Fatalf("no answer within %s: %v", wait, err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		t.Fatalf("answer %q: %v", line, err)
	}
	return resp
}

// ping sends a request the server answers itself and checks it is answered within wait.
func (ts *testServer) ping(t *testing.T, wait time.Duration) {
	t.Helper()
	c := ts.dial(t)
	c.Write([]byte(`{"op":"ping"}` + "\n"))
	if resp := readAnswer(t, c, wait); !strings.Contains(resp.Error, `unknown op "ping"`) {
		t.Fatalf("ping answered %+v", resp)
	}
}

// The process runs out of file descriptors (a flood of connections to the outbound port):
// Accept on the control socket fails with EMFILE. The loop logs it and retries with backoff,
// and the request that waited in the listen queue is answered once descriptors are free
// again. Before, the first failed Accept ended the loop for good, without a log line, and
// status and withdraw hung until a restart.
func TestServer_AcceptErrorRetried(t *testing.T) {
	ts := startServer(t, handlerFuncs{}, nil)
	ts.ping(t, 5*time.Second)

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
	hog[len(hog)-1].Close() // one for the client's end; the server's Accept then has none
	hog = hog[:len(hog)-1]
	c, err := net.DialTimeout("unix", ts.path, time.Second)
	if err != nil {
		release()
		t.Fatalf("dial with one descriptor left: %v", err)
	}
	defer c.Close()
	c.Write([]byte(`{"op":"ping"}` + "\n"))
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(ts.logs(t), "accept failed"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			release()
			t.Fatalf("timed out waiting for a failed accept logged")
		}
	}
	release()

	if resp := readAnswer(t, c, 5*time.Second); !strings.Contains(resp.Error, `unknown op "ping"`) {
		t.Fatalf("the request that waited was answered %+v", resp)
	}
	ts.ping(t, 5*time.Second)
	for _, want := range []string{"control socket: accept failed; retrying", "too many open files", "control socket: accepting again"} {
		if !strings.Contains(ts.logs(t), want) {
			t.Errorf("log lacks %q:\n%s", want, ts.logs(t))
		}
	}
}

// A request line is bounded: a client that sends megabytes without a newline gets one clear
// answer after MaxRequest bytes, and the server stops reading (before, a 2 GiB line grew the
// daemon to 2.5 GB).
func TestServer_RequestBound(t *testing.T) {
	ts := startServer(t, handlerFuncs{}, nil)
	c := ts.dial(t)
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
	resp := readAnswer(t, c, 5*time.Second)
	if resp.Code != consent.EINVALID || resp.Error != "control socket: request longer than 65536 bytes" {
		t.Errorf("answer %+v", resp)
	}
	// What the server did not read stays in the socket's buffers (a few hundred KiB) until it
	// closes the connection; then the client's writes fail.
	if n := <-wrote; n >= 8<<20 {
		t.Errorf("the server took %d bytes of one request line", n)
	}
	ts.ping(t, 5*time.Second)
}

// Connections are bounded: beyond MaxConns the server answers as many more "busy" instead of
// piling up goroutines, and closes any further one at once; a client that connects and says
// nothing holds its slot for RequestWait only.
func TestServer_ConnectionBound(t *testing.T) {
	ts := startServer(t, handlerFuncs{}, func(s *Server) { s.Limits = Limits{MaxConns: 2, RequestWait: 500 * time.Millisecond} })
	idle := []net.Conn{ts.dial(t), ts.dial(t)}
	time.Sleep(50 * time.Millisecond) // both accepted and waiting for their request
	busy := ts.dial(t)
	if _, err := busy.Write([]byte(`{"op":"ping"}` + "\n")); err != nil {
		t.Errorf("a request beyond the bound could not be written: %v", err)
	}
	if resp := readAnswer(t, busy, time.Second); resp.Code != consent.ECONFLICT || !strings.Contains(resp.Error, "busy") {
		t.Errorf("request beyond the bound answered %+v, want busy", resp)
	}
	refused := []net.Conn{ts.dial(t), ts.dial(t)} // the refusers' share, waiting for a request
	time.Sleep(50 * time.Millisecond)
	closed := ts.dial(t)
	closed.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := closed.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("beyond twice the bound: read %d, %v; want the connection closed at once", n, err)
	}
	for _, c := range refused {
		if resp := readAnswer(t, c, 2*time.Second); !strings.Contains(resp.Error, "busy") {
			t.Errorf("silent client beyond the bound answered %+v", resp)
		}
	}
	for _, c := range idle {
		if resp := readAnswer(t, c, 2*time.Second); !strings.Contains(resp.Error, "no complete request within 500ms") {
			t.Errorf("silent client answered %+v", resp)
		}
	}
	ts.ping(t, time.Second)
}

// A panic while a request is handled is answered as an internal error, logged with its stack
// and reported to OnPanic; the socket goes on serving. (The handler here has no withdraw
// function: calling it dereferences nil, as any bug in the withdrawal path might.)
func TestServer_PanicRecovered(t *testing.T) {
	panics := make(chan *consent.PanicError, 2)
	ts := startServer(t, handlerFuncs{}, func(s *Server) { s.OnPanic = func(pe *consent.PanicError) { panics <- pe } })
	c := ts.dial(t)
	c.Write([]byte(`{"op":"withdraw","withdraw":{"call":"6f1c2a4e-9d3b-4c7a-8e21-0b5d7f3a9c11","reason":"t"}}` + "\n"))
	if resp := readAnswer(t, c, 5*time.Second); resp.Code != consent.EINTERNAL || !strings.Contains(resp.Error, "recovered panic") {
		t.Errorf("answer %+v", resp)
	}
	ts.ping(t, 5*time.Second)
	if close(panics); len(panics) != 1 {
		t.Errorf("OnPanic told of %d panics, want 1", len(panics))
	} else if pe := <-panics; !strings.Contains(pe.Error(), "nil pointer dereference") {
		t.Errorf("OnPanic told of %v", pe)
	}
	logs := ts.logs(t)
	for _, want := range []string{"panic recovered", "nil pointer dereference", "op=withdraw", "loop=control-socket", "stack="} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
