package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

// The memory a call in conversation costs the daemon (issue 13, target 8). The fake
// FreeSWITCH runs in a child process (this test binary, TestHelperMemoryFake), so that what
// this process holds is the daemon's alone: heap objects and goroutine stacks, before the calls
// and while memCalls callers are all in conversation, recorded and transferred.

const memFakeEnv = "CALLCONSENT_MEMTEST_FAKE"

// memCalls is how many calls the guard holds at once; CALLCONSENT_MEMTEST_CALLS overrides it.
func memCalls() int {
	if n, err := strconv.Atoi(os.Getenv("CALLCONSENT_MEMTEST_CALLS")); err == nil && n > 0 {
		return n
	}
	return 500
}

// Bounds of the guard, per call in conversation, with margin over what was measured (see
// BENCHMARKS.md, issue 13, target 8).
const (
	memMaxBytesPerCall      = 28 << 10 // heap objects + goroutine stacks; 18.5 KiB measured
	memMaxGoroutinesPerCall = 2        // the handler waiting for the hang-up, the reader
)

type memSample struct {
	heap, stacks uint64
	goroutines   int
}

func readMem() memSample {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/sched/goroutines:goroutines"},
	}
	metrics.Read(s)
	return memSample{heap: s[0].Value.Uint64(), stacks: s[1].Value.Uint64(), goroutines: int(s[2].Value.Uint64())}
}

func TestMemoryPerCallInConversation(t *testing.T) {
	if testing.Short() {
		t.Skip("places hundreds of calls")
	}
	n := memCalls()
	if os.Getenv("CALLCONSENT_MEMTEST_PROFILE") != "" {
		defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1
	}
	child := exec.Command(os.Args[0], "-test.run=^TestHelperMemoryFake$")
	child.Env = append(os.Environ(), memFakeEnv+"=1", "CALLCONSENT_MEMTEST_CALLS="+strconv.Itoa(n))
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); child.Wait() })
	lines := bufio.NewScanner(stdout)
	var fsAddr string
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "ADDR "); ok {
			fsAddr = a
			break
		}
	}
	if fsAddr == "" {
		t.Fatal("the fake FreeSWITCH did not start")
	}
	go io.Copy(io.Discard, stdout)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{t: t, ctx: ctx, dir: t.TempDir(), commits: &commitLog{}, logs: &syncBuffer{}}
	if err := os.WriteFile(filepath.Join(h.dir, "esl-password"), []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--data-dir", h.dir, "--esl-listen", "127.0.0.1:0", "--freeswitch", fsAddr,
		"--digit-timeout", "2s", "--log-level", "warn", "--max-calls", strconv.Itoa(2 * n)}, testNoticeFlags(t, testNoticeLen)...)
	cfg, err := LoadConfig(filepath.Join(h.dir, "absent.yaml"), false, testFlags(t, args...))
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = cfg
	h.d = newDaemon(cfg, slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	h.d.wrapStore = func(s callStore) callStore { return &observedStore{callStore: s, log: h.commits} }
	if err := h.d.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.d.Close() })
	h.waitFor("control connection ready", h.d.control.Ready)

	before := readMem()
	fmt.Fprintln(stdin, h.d.outbound.Addr().String())
	deadline := time.Now().Add(60 * time.Second)
	for waiting := 0; waiting < n; waiting = inConversation() {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d calls in conversation in time\nlogs:\n%s", waiting, n, h.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if live := h.d.live.Len(); live != n {
		t.Fatalf("%d calls live, want %d\nlogs:\n%s", live, n, h.logs.String())
	}
	h.commits.mu.Lock()
	granted := len(h.commits.decided)
	h.commits.mu.Unlock()
	during := readMem()
	if dir := os.Getenv("CALLCONSENT_MEMTEST_PROFILE"); dir != "" {
		writeProfiles(t, dir)
	}
	heap := (float64(during.heap) - float64(before.heap)) / float64(n)
	stacks := (float64(during.stacks) - float64(before.stacks)) / float64(n)
	gs := float64(during.goroutines-before.goroutines) / float64(n)
	t.Logf("%d calls in conversation (%d recorded): heap %.0f B/call, stacks %.0f B/call, together %.1f KiB/call; goroutines %.2f/call",
		n, granted, heap, stacks, (heap+stacks)/1024, gs)
	if gs > memMaxGoroutinesPerCall+0.05 {
		t.Errorf("a call in conversation runs %.2f goroutines, want at most %d", gs, memMaxGoroutinesPerCall)
	}
	if !raceEnabled && heap+stacks > memMaxBytesPerCall { // the race detector's bookkeeping is not the daemon's
		t.Errorf("a call in conversation costs %.0f bytes (heap + stacks), want at most %d", heap+stacks, memMaxBytesPerCall)
	}
}

// inConversation counts the goroutines of calls that wait for the hang-up.
func inConversation() int {
	var b strings.Builder
	pprof.Lookup("goroutine").WriteTo(&b, 1)
	total := 0
	for _, g := range strings.Split(b.String(), "\n\n") { // a group: "N @ pcs" and its frames
		if !strings.Contains(g, ").WaitEnd+") {
			continue
		}
		for _, line := range strings.Split(g, "\n") { // the first group comes after the profile's title
			if count, _, ok := strings.Cut(line, " @ "); ok {
				n, _ := strconv.Atoi(count)
				total += n
				break
			}
		}
	}
	return total
}

func writeProfiles(t *testing.T, dir string) {
	for _, p := range []struct {
		name, file string
		debug      int
	}{{"heap", "heap.pb.gz", 0}, {"goroutine", "goroutine.txt", 1}} {
		f, err := os.Create(filepath.Join(dir, p.file))
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.Lookup(p.name).WriteTo(f, p.debug); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

// TestHelperMemoryFake is the fake FreeSWITCH of TestMemoryPerCallInConversation, in its own
// process: it prints its address, reads the daemon's, places the calls, each of which presses
// 1 after the notice and stays in conversation until stdin closes.
func TestHelperMemoryFake(t *testing.T) {
	if os.Getenv(memFakeEnv) == "" {
		t.Skip("run by TestMemoryPerCallInConversation")
	}
	fs := fakefs.New(fakefs.Config{Password: testPassword, RecordingsDir: t.TempDir(), HeartbeatInterval: time.Second,
		RecordFlushInterval: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := fs.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	fmt.Printf("ADDR %s\n", fs.Addr())
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() {
		return
	}
	daemonAddr := strings.TrimSpace(in.Text())
	var wg sync.WaitGroup
	for range memCalls() {
		time.Sleep(2 * time.Millisecond) // a burst of connects is the overflow test's business
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := fs.Call(ctx, daemonAddr, fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: time.Hour})
			if ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "call ended early: %v %v apps %v digits %q\n", err, res.Err, res.Apps, res.Digits)
			}
		}()
	}
	for in.Scan() {
	}
	cancel()
	wg.Wait()
}
