package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl"
	"github.com/callconsent/callconsent/esl/fakefs"
)

// TestHostilePeers runs the built daemon, as a user runs it, under an open-file limit of 256
// (prlimit; max-calls auto is then 112), beside a fake FreeSWITCH, and lets hostile local peers
// at its outbound port: idle ones, slow ones, a flood of 400 calls that stall, 16 MiB frames in
// body and header, and storms of RECORD_* events (issue 8). Throughout, the daemon's open files
// and memory stay bounded and it answers status; every peer's socket is closed by the daemon's
// own deadlines; afterwards it takes a normal call as ever.
func TestHostilePeers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	fs := fakefs.New(fakefs.Config{Password: testPassword, HeartbeatInterval: time.Second, RecordFlushInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	failOn(t, fs.Open(context.Background()))
	t.Cleanup(func() { fs.Close() })
	d := startBinary(t, fs.Addr(), 256, 256)
	base := d.proc()
	maxCalls := d.metric("callconsent_max_calls")
	t.Logf("daemon at rest: %d open files, %d KiB resident; max-calls %d", base.fds, base.rssKiB, maxCalls)

	var n hostileCounts
	var events atomic.Int64
	var wg sync.WaitGroup
	peer := func(run func(h *hostile)) {
		if h := dialHostile(t, d.addr); h != nil {
			wg.Go(func() { run(h) })
		}
	}
	began := time.Now()
	for range 10 {
		peer(func(h *hostile) { h.idle(&n) })
		peer(func(h *hostile) { h.slow(&n) })
		peer(func(h *hostile) { h.huge(&n, false) })
		peer(func(h *hostile) { h.huge(&n, true) })
	}
	for range 4 {
		peer(func(h *hostile) { h.storm(&n, &events) })
	}
	time.Sleep(300 * time.Millisecond)
	for range 400 {
		peer(func(h *hostile) { h.stall(&n) })
	}
	flooded := time.Now()

	// During the flood: the CLI still reaches the daemon, which keeps its control connection.
	var peak procStat
	sampling := make(chan struct{})
	go func() {
		defer close(sampling)
		for !waitTimeoutWG(&wg, 100*time.Millisecond) {
			peak = peak.max(d.proc())
		}
	}()
	time.Sleep(time.Second)
	if st := d.status(); st == nil || !st.Ready {
		t.Errorf("status during the flood: %+v; want an answer, connected to FreeSWITCH\n%s", st, d.logs)
	}
	if !waitTimeoutWG(&wg, 30*time.Second) {
		t.Fatalf("hostile peers still connected 30 s after the flood")
	}
	<-sampling
	t.Logf("flood of 400 over %d calls: %d served, %d turned away (transferred), %d closed at once; slowest close %s after connect; %d events stormed; peak %d open files, %d KiB resident (VmHWM %d KiB); all closed %s after the flood",
		maxCalls, n.served.Load(), n.turnedAway.Load(), n.closedAtAll.Load(), n.slowest, events.Load(), peak.fds, peak.rssKiB, d.proc().hwmKiB, time.Since(flooded).Round(100*time.Millisecond))

	if n.wrong.Load() > 0 {
		t.Errorf("%d peers were dealt with wrongly, e.g. %s", n.wrong.Load(), n.sample)
	}
	if got := n.served.Load(); got == 0 || int64(got) > maxCalls {
		t.Errorf("%d stalling calls taken on, want 1..max-calls (%d)", got, maxCalls)
	}
	if got := n.turnedAway.Load() + n.closedAtAll.Load(); got < 400-int32(maxCalls) || n.turnedAway.Load() == 0 {
		t.Errorf("%d turned away (%d transferred), want at least %d, some transferred", got, n.turnedAway.Load(), 400-maxCalls)
	}
	if over := d.metric("callconsent_calls_over_limit_total"); over < int64(n.turnedAway.Load()+n.closedAtAll.Load()) {
		t.Errorf("status counts %d calls over the limit, the peers saw %d", over, n.turnedAway.Load()+n.closedAtAll.Load())
	}
	if limit := maxCalls + fdReserve + esl.OverflowSlots; int64(peak.fds) > limit {
		t.Errorf("peak of %d open files, want at most max-calls + %d + %d = %d", peak.fds, fdReserve, esl.OverflowSlots, limit)
	}
	// Memory: a call at rest costs about 62 KiB (BENCHMARKS.md); a hostile one at most a frame
	// of each bound more. Without the bounds, the 16 MiB frames and the event storms took GBs.
	if hwm := max(d.proc().hwmKiB, peak.rssKiB); hwm > base.rssKiB+int(maxCalls)*256+64<<10 {
		t.Errorf("peak resident memory %d KiB, want at most %d KiB at rest + 256 KiB per call + 64 MiB", hwm, base.rssKiB)
	}
	if d.logs.contains("too many open files") {
		t.Errorf("the daemon ran out of open files:\n%s", d.logs)
	}

	// Afterwards: back to rest (give or take the SQLite reader connections the daemon may have
	// opened meanwhile, 3 files each), and a normal call is taken on, consented and recorded.
	deadline := time.Now().Add(20 * time.Second)
	for st := d.proc(); st.fds > base.fds+12; st = d.proc() {
		if time.Now().After(deadline) {
			t.Fatalf("%d open files 20 s after the peers left, %d at rest", st.fds, base.fds)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := fs.Call(ctx, d.addr, fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: 1500 * time.Millisecond})
	if err != nil || len(res.Recordings) != 1 {
		t.Fatalf("a normal call after the peers: %+v, %v\n%s", res, err, d.logs)
	}
	if row := d.finalCall(res.UUID); row.Decision != "granted" || row.Recording == nil || row.Recording.State != "complete" {
		t.Errorf("the normal call's row: %+v", row)
	}
	if st := d.status(); st == nil || !st.Ready || st.LiveCalls != 0 {
		t.Errorf("status afterwards: %+v", st)
	}
	t.Logf("all of it took %s", time.Since(began).Round(100*time.Millisecond))
	for _, pd := range callerData {
		if d.logs.contains(pd) {
			t.Errorf("the daemon logged caller data %q", pd)
		}
	}
}

// TestOpenFileLimitRaised: run raises the soft open-file limit to the hard one (Go itself stops
// one short of it) and sizes max-calls auto from it.
func TestOpenFileLimitRaised(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("needs prlimit to start the daemon under a low soft limit")
	}
	fs := fakefs.New(fakefs.Config{Password: testPassword, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	failOn(t, fs.Open(context.Background()))
	t.Cleanup(func() { fs.Close() })
	d := startBinary(t, fs.Addr(), 200, 400)
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", d.pid))
	failOn(t, err)
	for _, line := range strings.Split(string(limits), "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "Max open files") && (len(f) < 5 || f[3] != "400" || f[4] != "400") {
			t.Errorf("%s; want soft and hard 400", line)
		}
	}
	if got := d.metric("callconsent_max_calls"); got != 400-keptFiles {
		t.Errorf("max-calls auto = %d under 400 open files, want %d", got, 400-keptFiles)
	}
}
