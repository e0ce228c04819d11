package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/control"
)

// binDaemon is `callconsent run`, the built binary, in a trial folder.
type binDaemon struct {
	t    *testing.T
	bin  string
	args []string // global flags for every command
	addr string   // the outbound listener
	pid  int
	logs *syncBuffer
	run  []string  // the command line of run, for a restart
	cmd  *exec.Cmd // the running daemon
}

// startBinary builds callconsent and runs it against the fake FreeSWITCH at fsAddr, under the
// soft and hard open-file limits given where prlimit exists (else with max-calls 112 under
// this test's own), and waits until status says it is connected.
func startBinary(t *testing.T, fsAddr string, soft, hard int) *binDaemon {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "callconsent")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	failOn(t, os.MkdirAll(data, 0o700))
	failOn(t, os.WriteFile(filepath.Join(data, "esl-password"), []byte(testPassword+"\n"), 0o600))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	failOn(t, err)
	addr := ln.Addr().String()
	ln.Close()
	d := &binDaemon{t: t, bin: bin, addr: addr, logs: &syncBuffer{},
		args: append([]string{"--data-dir", data, "--esl-listen", addr, "--freeswitch", fsAddr, "--digit-timeout", "200ms"},
			testNoticeFlags(t, testNoticeLen)...)}
	run := append(append([]string{bin}, d.args...), "run")
	if prlimit, err := exec.LookPath("prlimit"); err == nil {
		run = append([]string{prlimit, fmt.Sprintf("--nofile=%d:%d", soft, hard), "--"}, run...)
	} else {
		t.Logf("no prlimit: running with max-calls 112 under the open-file limit of this test")
		run = append(run[:len(run)-1], "--max-calls", "112", "run")
	}
	d.run = run
	d.launch()
	t.Cleanup(func() {
		d.cmd.Process.Signal(os.Interrupt)
		d.cmd.Wait()
		if t.Failed() {
			t.Logf("the daemon's log:\n%s", d.logs)
		}
	})
	return d
}

// launch starts `callconsent run` and waits until status says it is connected.
func (d *binDaemon) launch() {
	t := d.t
	cmd := exec.Command(d.run[0], d.run[1:]...)
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	failOn(t, cmd.Start())
	d.pid, d.cmd = cmd.Process.Pid, cmd
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if st := d.status(); st != nil && st.Ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon is not connected to the fake FreeSWITCH after 30 s:\n%s", d.logs)
		}
	}
}

// cli runs a callconsent command beside the daemon.
func (d *binDaemon) cli(args ...string) (string, error) {
	out, err := exec.Command(d.bin, append(append([]string{}, d.args...), args...)...).CombinedOutput()
	return string(out), err
}

// status is `status --output json`, nil when the daemon did not answer.
func (d *binDaemon) status() *control.Status {
	out, _ := d.cli("status", "--output", "json")
	var st control.Status
	if json.Unmarshal([]byte(out), &st) != nil {
		return nil
	}
	return &st
}

// metric is a sample of status's Prometheus text; -1 when absent.
func (d *binDaemon) metric(name string) int64 {
	out, _ := d.cli("status") // exit 4 or 5 still prints the metrics
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int64(n)
		}
	}
	d.t.Errorf("status has no %s:\n%s", name, out)
	return -1
}

// finalCall waits until the call's row is final and returns it as calls show prints it.
func (d *binDaemon) finalCall(uuid string) (row struct {
	Decision  string
	Recording *struct{ State string }
}) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, err := d.cli("calls", "show", uuid, "--output", "json")
		if err == nil && json.Unmarshal([]byte(out), &row) == nil && row.Decision != "pending" &&
			(row.Recording == nil || row.Recording.State != "pending" && row.Recording.State != "recording") {
			return row
		}
	}
	d.t.Fatalf("call %s not final in 10 s", uuid)
	return row
}

// procStat is what /proc says of the daemon.
type procStat struct{ fds, rssKiB, hwmKiB int }

func (p procStat) max(q procStat) procStat {
	return procStat{max(p.fds, q.fds), max(p.rssKiB, q.rssKiB), max(p.hwmKiB, q.hwmKiB)}
}

func (d *binDaemon) proc() procStat {
	var st procStat
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", d.pid))
	st.fds = len(fds)
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.pid))
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			n, _ := strconv.Atoi(f[1])
			if f[0] == "VmRSS:" {
				st.rssKiB = n
			} else {
				st.hwmKiB = n
			}
		}
	}
	return st
}

func (b *syncBuffer) contains(s string) bool { return strings.Contains(b.String(), s) }

func waitTimeoutWG(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// failOn ends the test on an error.
func failOn(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
