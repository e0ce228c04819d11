package realfs

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvBench runs TestRealFreeSWITCHBench, the figures of BENCHMARKS.md; it is off in CI.
const EnvBench = "CALLCONSENT_REALFS_BENCH"

// TestRealFreeSWITCHBench measures, on the real switch and by its own clock, how long after
// the caller's 1 recording starts (the DTMF event's timestamp to RECORD_START's), through
// callconsent and through a bare event-socket client that sends record_session the moment it
// sees the key: the floor. Calls alternate between the two, in one run. Then it raises the
// number of calls at once until the pair no longer handles them all.
func TestRealFreeSWITCHBench(t *testing.T) {
	if os.Getenv(EnvBench) == "" {
		t.Skipf("set %s=1 to run the real-switch benchmark", EnvBench)
	}
	e := setup(t)
	bare, err := newBareClient(e.notice)
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	n := 30
	if v, err := strconv.Atoi(os.Getenv(EnvBench)); err == nil && v > 1 {
		n = v
	}
	var cc, floor []time.Duration
	for i := range 2 * n {
		viaBare := i%2 == 1
		if viaBare {
			e.relay.SetTarget(bare.Addr())
		} else {
			e.relay.SetTarget(e.d.flags[1])
		}
		c := e.place(t, "")
		if viaBare {
			c.started("playback", e.notice)
		} else {
			c.noticeRest()
		}
		time.Sleep(200 * time.Millisecond)
		c.key("1")
		key := c.on(10*time.Second, "DTMF", nil)
		rec := c.on(10*time.Second, "RECORD_START", nil)
		c.hangup()
		d := rec.Stamp().Sub(key.Stamp())
		if viaBare {
			floor = append(floor, d)
		} else {
			cc = append(cc, d)
		}
	}
	e.relay.SetTarget(e.d.flags[1])
	t.Logf("digit -> RECORD_START by FreeSWITCH's clock, %d calls each, alternating:", n)
	t.Logf("  callconsent  %s", stats(cc))
	t.Logf("  bare client  %s", stats(floor))
	t.Logf("  ratio of medians %.2f, of means %.2f", float64(median(cc))/float64(median(floor)), float64(mean(cc))/float64(mean(floor)))

	for _, level := range []int{50, 100, 200, 225, 250, 275, 300} {
		fs0, cc0 := cpuTime(e.sw.PID), cpuTime(e.d.cmd.Process.Pid)
		ok, took := e.concurrent(t, level)
		fs1, cc1 := cpuTime(e.sw.PID), cpuTime(e.d.cmd.Process.Pid)
		t.Logf("%3d calls at once: %3d handled right in %s; CPU FreeSWITCH %s, callconsent %s", level, ok, took.Round(time.Millisecond),
			(fs1 - fs0).Round(time.Millisecond), (cc1 - cc0).Round(time.Millisecond))
		if ok < level {
			break
		}
	}
}

// concurrent places level consenting calls within 2 s, each pressing 1 as soon as the rest of
// the notice plays and talking 3 s, so that all of them are up at once for a while, and counts
// those that were recorded (RECORD_START) and transferred.
func (e *env) concurrent(t *testing.T, level int) (int, time.Duration) {
	start := time.Now()
	var mu sync.Mutex
	ok := 0
	failed := map[string]int{}
	fail := func(why string) { mu.Lock(); failed[why]++; mu.Unlock() }
	defer func() {
		if len(failed) > 0 {
			t.Logf("    failed at %d: %v", level, failed)
		}
	}()
	var wg sync.WaitGroup
	for i := range level {
		wg.Go(func() {
			// Spread over 2 s: FreeSWITCH's sessions-per-second limit (500, two legs a call)
			// would refuse a burst; what is measured is how many calls the pair holds at once.
			time.Sleep(time.Duration(i) * 2 * time.Second / time.Duration(level))
			c := &call{e: e, t: t, A: newUUID()}
			if err := e.fs.Originate(c.A, caller, "origination_caller_id_name='"+name+"'"); err != nil {
				fail("originate")
				return
			}
			ev, err := e.fs.WaitLeg(c.A, 30*time.Second, func(ev Event) bool {
				return ev["variable_origination_uuid"] == c.A && ev["Unique-ID"] != c.A && ev.Name() == "CHANNEL_EXECUTE" && ev["Application"] == "socket"
			})
			if err != nil {
				fail("never reached the socket")
				return
			}
			c.B = ev["Unique-ID"]
			if _, err := e.fs.WaitLeg(c.B, 30*time.Second, c.match("CHANNEL_EXECUTE", func(ev Event) bool { return strings.Contains(ev["Application-Data"], "@@") })); err != nil {
				fail("the rest of the notice never started")
				e.fs.Hangup(c.A)
				return
			}
			e.fs.Keys(c.A, "1")
			_, err1 := e.fs.WaitLeg(c.B, 30*time.Second, c.match("RECORD_START", nil))
			_, err2 := e.fs.WaitLeg(c.B, 30*time.Second, c.match("CHANNEL_EXECUTE", func(ev Event) bool { return ev["Application"] == "transfer" }))
			time.Sleep(3 * time.Second)
			e.fs.Hangup(c.A)
			switch {
			case err1 != nil:
				fail("no RECORD_START")
			case err2 != nil:
				fail("no transfer")
			default:
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return ok, time.Since(start)
}

func (c *call) match(name string, f func(Event) bool) func(Event) bool {
	return func(ev Event) bool { return ev["Unique-ID"] == c.B && ev.Name() == name && (f == nil || f(ev)) }
}

func stats(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("min %s  p50 %s  mean %s  p90 %s  max %s", s[0], median(s), mean(s).Round(time.Millisecond), s[len(s)*9/10], s[len(s)-1])
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

// bareClient is the floor: an outbound event-socket server with nothing between the key and
// record_session. It answers, plays the notice, and sends record_session when the first DTMF
// event arrives; then it transfers to the employee.
type bareClient struct {
	ln     net.Listener
	notice string
	dir    string
}

func newBareClient(notice string) (*bareClient, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bare-recordings-")
	if err != nil {
		return nil, err
	}
	b := &bareClient{ln: ln, notice: notice, dir: dir}
	go b.accept()
	return b, nil
}

func (b *bareClient) Addr() string { return b.ln.Addr().String() }
func (b *bareClient) Close() error { os.RemoveAll(b.dir); return b.ln.Close() }

func (b *bareClient) accept() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		go b.serve(c)
	}
}

func (b *bareClient) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	send := func(s string) { io.WriteString(c, s+"\n\n") }
	send("connect")
	h, _ := readHeaders(br)
	uuid := h["Unique-ID"]
	exec := func(app, arg string) {
		send("sendmsg " + uuid + "\ncall-command: execute\nexecute-app-name: " + app + "\nexecute-app-arg: " + arg)
	}
	for _, cmd := range []string{"linger 30", "myevents plain", "event plain RECORD_START RECORD_STOP"} {
		send(cmd)
	}
	exec("answer", "")
	exec("playback", b.notice)
	recorded := false
	for {
		h, err := readHeaders(br)
		if err != nil {
			return
		}
		var body []byte
		if n, _ := strconv.Atoi(h["Content-Length"]); n > 0 {
			body = make([]byte, n)
			if _, err := io.ReadFull(br, body); err != nil {
				return
			}
		}
		if h["Content-Type"] != "text/event-plain" {
			if h["Content-Disposition"] == "linger" {
				send("exit")
			}
			continue
		}
		ev := parseEvent(string(body))
		if ev.Name() == "DTMF" && !recorded {
			recorded = true
			exec("record_session", b.dir+"/"+uuid+".wav")
			exec("transfer", "6000 XML default")
		}
	}
}

// cpuTime is the user+system CPU time a process used so far (/proc/<pid>/stat, clock ticks of 10 ms).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
