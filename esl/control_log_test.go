package esl

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// TestControl_DeadFreeSWITCHLogsFewLines: while FreeSWITCH stays down, the first failed
// connect is a warning and so is each that doubles the backoff; once the backoff stopped
// growing, further failures are debug lines, not a warning every BackoffMax (43 in 10 minutes
// before).
func TestControl_DeadFreeSWITCHLogsFewLines(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there: every connect is refused

	var logs lockedBuffer
	c := NewControl(addr, "ClueCon", slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	c.BackoffMin, c.BackoffMax = 2*time.Millisecond, 16*time.Millisecond // 2, 4, 8, 16: four steps
	c.CommandTimeout = time.Second
	must(t, c.Open(context.Background()))
	defer c.Close()
	waitFor(t, "30 failed connects", func() bool { return strings.Count(logs.String(), "esl control connect failed") >= 30 })
	c.Close()

	var warns []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") {
			warns = append(warns, line)
		}
	}
	if len(warns) != 4 {
		t.Fatalf("%d warnings, want 4 (the first failure and one per backoff step):\n%s", len(warns), strings.Join(warns, "\n"))
	}
	for i, want := range []string{"retry_in=2ms failures=1", "retry_in=4ms failures=2", "retry_in=8ms failures=3", "retry_in=16ms failures=4"} {
		if !strings.Contains(warns[i], want) {
			t.Errorf("warning %d lacks %q: %s", i, want, warns[i])
		}
	}
}
