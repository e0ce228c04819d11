package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/robfig/cron/v3"
)

// DefaultSchedule runs a sweep every 15 minutes: a recording lives at most retention plus this
// interval (R-RETAIN-1), and a withdrawal that reached only the database is done within it.
const DefaultSchedule = "@every 15m"

// defaultInterval is the time between two sweeps of DefaultSchedule.
const defaultInterval = 15 * time.Minute

// ScheduleInterval returns the longest time between two runs of the cron schedule spec ("" is
// DefaultSchedule) over the next days: how long the daemon may go without a sweep. The sweeper
// waits that long before it discards a stored time of the last sweep that lies in the future.
func ScheduleInterval(spec string) (time.Duration, error) {
	if spec == "" {
		spec = DefaultSchedule
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return 0, fmt.Errorf("sweep schedule %q: %w", spec, err)
	}
	// A week of runs covers every daily and weekly pattern; the first 1000 runs bound the work
	// for a schedule of every minute.
	var longest time.Duration
	t := sched.Next(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
	end := t.Add(8 * 24 * time.Hour)
	for i := 0; i < 1000 && t.Before(end); i++ {
		next := sched.Next(t)
		if next.IsZero() {
			break
		}
		longest = max(longest, next.Sub(t))
		t = next
	}
	if longest <= 0 {
		return 0, fmt.Errorf("sweep schedule %q never runs twice", spec)
	}
	return longest, nil
}

// Sweeps is what the Scheduler runs; *Sweeper implements it.
type Sweeps interface {
	Sweep(ctx context.Context, o Options) (Report, error)
}

// Scheduler runs sweeps on a cron schedule. A sweep still running when the next is due is
// skipped, not queued, and a panic in a sweep is logged (with its stack), reported to OnPanic
// and does not end the daemon: the next run goes ahead.
type Scheduler struct {
	spec    string
	sweeper Sweeps
	log     *slog.Logger
	cron    *cron.Cron

	// OnPanic, when set, is told of each panic recovered from a sweep; the daemon counts it as
	// an alarm. Set it before Open.
	OnPanic func(*consent.PanicError)
}

// NewScheduler returns a Scheduler for spec (standard cron syntax or "@every <duration>"; ""
// means DefaultSchedule). Nothing runs until Open.
func NewScheduler(spec string, sweeper Sweeps, logger *slog.Logger) *Scheduler {
	if spec == "" {
		spec = DefaultSchedule
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Scheduler{spec: spec, sweeper: sweeper, log: logger.With("system", "retention-cron")}
}

// Open starts the schedule. Sweeps run with a context that carries ctx's values but not its
// cancellation: a sweep in progress finishes its batch protocol rather than stopping between
// two commits (which would be safe, but leaves work for the next run); Close waits for it.
func (s *Scheduler) Open(ctx context.Context) error {
	logger := cronLogger{s.log}
	// A panic must be caught inside SkipIfStillRunning: unwinding through it would keep its
	// token (it returns it without a defer), and every later run would be skipped for good.
	c := cron.New(cron.WithLogger(logger), cron.WithChain(cron.SkipIfStillRunning(logger)))
	runCtx := context.WithoutCancel(ctx)
	if _, err := c.AddFunc(s.spec, func() {
		// The sweeper logs its own report and errors; a panic is caught here, inside
		// SkipIfStillRunning, which then lets the next run go.
		err := consent.CatchPanic(func() error { _, err := s.sweeper.Sweep(runCtx, Options{}); return err })
		var pe *consent.PanicError
		if errors.As(err, &pe) {
			s.log.Error("alarm: sweep panicked; the next run goes ahead", "err", pe.Error(), "stack", string(pe.Stack))
			if s.OnPanic != nil {
				s.OnPanic(pe)
			}
		}
	}); err != nil {
		return fmt.Errorf("sweep schedule %q: %w", s.spec, err)
	}
	c.Start()
	s.cron = c
	return nil
}

// Close stops the schedule and waits until a running sweep has finished.
func (s *Scheduler) Close() error {
	if s.cron == nil {
		return nil
	}
	<-s.cron.Stop().Done()
	s.cron = nil
	return nil
}

// cronLogger adapts slog to cron.Logger. cron's Info messages (schedule, wake, run) are chatty
// and go to Debug, except "skip": a sweep that outlasts its interval is worth a warning. Its
// Error messages (recovered panics) go to Error.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, keysAndValues ...any) {
	if msg == "skip" {
		l.log.Warn("sweep still running at its next time; this run skipped")
		return
	}
	l.log.Debug(msg, keysAndValues...)
}

func (l cronLogger) Error(err error, msg string, keysAndValues ...any) {
	l.log.Error(msg, append(keysAndValues, "err", err)...)
}
