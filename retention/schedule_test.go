package retention_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/retention"
)

// fakeSweeps counts sweeps and runs fn in each.
type fakeSweeps struct {
	calls atomic.Int32
	fn    func(n int32)
}

func (f *fakeSweeps) Sweep(ctx context.Context, o retention.Options) (retention.Report, error) {
	f.fn(f.calls.Add(1))
	return retention.Report{}, nil
}

// TestScheduler_Fires is the one test that waits for cron (about two seconds): the schedule
// fires, a panicking sweep does not stop it and is reported to OnPanic, a sweep that outlasts its interval is
// not run twice at once (SkipIfStillRunning), and Close waits for the running sweep.
func TestScheduler_Fires(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	f := &fakeSweeps{fn: func(n int32) {
		switch n {
		case 1:
			panic("sweep blew up")
		case 2:
			close(started)
			<-release
		}
	}}
	s := retention.NewScheduler("@every 1s", f, testLogger(t))
	var panics atomic.Int32
	s.OnPanic = func(pe *consent.PanicError) {
		if strings.Contains(pe.Error(), "blew up") || len(pe.Stack) == 0 {
			t.Errorf("panic reported as %q with %d bytes of stack; want its value hidden, its stack kept", pe.Error(), len(pe.Stack))
		}
		panics.Add(1)
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatalf("second sweep not started; calls %d", f.calls.Load())
	}
	closed := make(chan struct{})
	time.Sleep(1200 * time.Millisecond) // one more tick while the sweep runs: skipped
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a sweep was running")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the sweep finished")
	}
	if n := f.calls.Load(); n != 2 {
		t.Fatalf("%d sweeps, want 2 (the overlapping one skipped)", n)
	}
	if n := panics.Load(); n != 1 {
		t.Errorf("OnPanic told of %d panics, want 1", n)
	}
}

// TestScheduler_BadSpec fails at Open, before anything runs.
func TestScheduler_BadSpec(t *testing.T) {
	s := retention.NewScheduler("every fortnight", &fakeSweeps{fn: func(int32) {}}, nil)
	if err := s.Open(context.Background()); err == nil {
		s.Close()
		t.Fatal("bad spec accepted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestScheduleInterval: the longest gap between two runs of a schedule, which is how long a
// stored last-sweep time in the future may hold deletions back.
func TestScheduleInterval(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want time.Duration
	}{
		{"", 15 * time.Minute},
		{"@every 15m", 15 * time.Minute},
		{"*/15 * * * *", 15 * time.Minute},
		{"0 3 * * *", 24 * time.Hour},
		{"0 3 * * 1-5", 72 * time.Hour}, // Friday to Monday
		{"@every 1h30m", 90 * time.Minute},
	} {
		got, err := retention.ScheduleInterval(tc.spec)
		if err != nil || got != tc.want {
			t.Errorf("%q: %v %v, want %v", tc.spec, got, err, tc.want)
		}
	}
	if _, err := retention.ScheduleInterval("every 15 minutes"); err == nil {
		t.Error("a bad schedule was accepted")
	}
}
