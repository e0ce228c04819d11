package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

// TestDaemonLog_Lines: each log line names its component once (system=retention appeared
// twice on the schedule's lines), and a normal withdrawal is not reported as "finished
// interrupted deletions".
func TestDaemonLog_Lines(t *testing.T) {
	h := startHarness(t, fakefs.Config{}, "--sweep-schedule", "@every 1s")
	c := h.consentCall()
	var out bytes.Buffer
	if err := runWithdraw(h.ctx, h.cfg, withdrawOptions{Call: c.UUID, Reason: "ticket 8"}, &out); err != nil {
		t.Fatalf("withdraw: %v\n%s", err, out.String())
	}
	h.waitFor("a scheduled sweep", func() bool { return h.d.sweeper.Metrics().Sweeps.Load() >= 2 })
	time.Sleep(100 * time.Millisecond) // its log lines
	logs := h.logs.String()
	if !strings.Contains(logs, "system=retention-cron") || !strings.Contains(logs, `msg="consent withdrawn"`) {
		t.Fatalf("the log lacks the schedule's or the withdrawal's lines:\n%s", logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Count(line, " system=") > 1 {
			t.Errorf("two system attributes: %s", line)
		}
		if strings.Contains(line, "finished interrupted deletions") {
			t.Errorf("a normal withdrawal logged as interrupted: %s", line)
		}
	}
}
