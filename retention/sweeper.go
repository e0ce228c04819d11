package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
)

// maxClockJump is how far the wall clock may run ahead of the monotonic clock between two
// sweeps of one process. More is a clock set wrong, which would delete recordings early.
const maxClockJump = 24 * time.Hour

// Sweeper carries out the retention policy on the recordings folder and the store. One sweep
// runs at a time. Create it with NewSweeper, then Open, Sweep as often as needed, Close.
type Sweeper struct {
	store  Store
	dir    string
	policy Policy
	now    func() time.Time
	log    *slog.Logger

	// Monotonic returns time elapsed on a clock nobody can set; the wall clock is checked
	// against it. Defaults to time.Since of the Sweeper's creation; tests replace it.
	Monotonic func() time.Duration
	// BatchSize is how many files share one mark and one finish commit.
	BatchSize int
	// Interval is the time between two scheduled sweeps (see ScheduleInterval). A stored time
	// of the last sweep that lies in the future holds new deletions back for one Interval,
	// then it is discarded with an alarm. Defaults to the interval of DefaultSchedule.
	Interval time.Duration
	// OnUnlink, when set, is told how long each file's deletion took: its stat and unlink in
	// its folder, not the batch's commits. Set it before Open; it must not block.
	OnUnlink func(time.Duration)

	mu         sync.Mutex
	root       *os.Root
	walker     *recordings.Walker
	readOnly   bool      // opened by OpenReadOnly: dry runs only
	lastWall   time.Time // wall and monotonic time of the last unguarded sweep of this process
	lastMono   time.Duration
	checkpoint bool   // a checkpoint failed and is owed
	failpoint  string // see failpoint.go
	metrics    Metrics
	alarms     alarms
}

// NewSweeper returns a Sweeper for the recordings below dir. now is the wall clock (time.Now
// outside tests); logger gets the attribute system=retention.
func NewSweeper(store Store, dir string, p Policy, now func() time.Time, logger *slog.Logger) *Sweeper {
	if logger == nil {
		logger = slog.Default()
	}
	start := time.Now()
	s := &Sweeper{
		store: store, dir: dir, policy: p, now: now,
		log:       logger.With("system", "retention"),
		Monotonic: func() time.Duration { return time.Since(start) },
		BatchSize: 2000,
		Interval:  defaultInterval,
		failpoint: armedFailpoint(),
	}
	s.alarms.now = now
	s.alarms.count = func(n int64) { s.metrics.Alarms.Add(n) }
	s.alarms.countStuck = func() { s.metrics.Stuck.Add(1) }
	return s
}

// Open opens the recordings folder as an os.Root, so that no deletion can leave it, and
// finishes every deletion a crash or a failed unlink left half-done. A missing or unreadable
// folder is an error: a sweep that sees nothing must never report "0 deleted". A file that
// cannot be deleted is not: it is logged, kept as an alarm and retried by every sweep, and it
// must not keep the daemon, a sweep or a withdrawal of another call from running.
func (s *Sweeper) Open(ctx context.Context) error {
	if err := s.OpenFolder(ctx); err != nil {
		return err
	}
	rep, err := s.Recover(ctx)
	if err != nil && !errors.Is(err, ErrIncomplete) {
		s.Close()
		return fmt.Errorf("recover deletions: %w", err)
	}
	// Only here are they interrupted ones (a crash, a failed unlink); later, Recover finishes
	// what a withdrawal just committed, which the withdrawal logs itself.
	if n := rep.Total().Files; n > 0 || rep.Errors > 0 {
		s.log.Info("finished interrupted deletions", "files", n, "errors", rep.Errors)
	}
	return nil
}

// OpenReadOnly opens the recordings folder for dry runs only: nothing is recovered, and Sweep
// refuses to run without Options.DryRun. With a store opened read-only too, a dry run changes
// no file and no row.
func (s *Sweeper) OpenReadOnly(ctx context.Context) error {
	if err := s.OpenFolder(ctx); err != nil {
		return err
	}
	s.readOnly = true
	return nil
}

// OpenFolder is Open without finishing committed deletions, for a caller that sweeps next: a
// sweep finishes them too, and its report then counts them.
func (s *Sweeper) OpenFolder(ctx context.Context) error {
	if err := s.policy.Validate(); err != nil {
		return err
	}
	dir, err := filepath.Abs(s.dir)
	if err != nil {
		return dirError(s.dir, err)
	}
	s.dir = filepath.Clean(dir)
	return s.openRoot()
}

// openRoot (re)opens the root and proves it readable.
func (s *Sweeper) openRoot() error {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		s.metrics.GuardDir.Add(1)
		return dirError(s.dir, err)
	}
	w := recordings.NewWalker(root, s.dir, s.log)
	if _, err := w.ReadDir("."); err != nil {
		root.Close()
		s.metrics.GuardDir.Add(1)
		return dirError(s.dir, err)
	}
	if s.root != nil {
		s.root.Close()
	}
	s.root, s.walker = root, w
	return nil
}

// checkRoot makes sure the open root is still the folder at s.dir. If the folder was removed
// the sweep fails loudly; if it was replaced (storage remounted) the root is reopened, since
// the old handle would show an empty, deleted folder. Outside dry runs the outcome raises or
// clears the folder alarm.
func (s *Sweeper) checkRoot(dryRun bool) (err error) {
	defer func() {
		switch {
		case dryRun:
		case err != nil:
			s.alarms.raise(AlarmKindFolder, consent.ErrorMessage(err))
		default:
			s.alarms.clear(AlarmKindFolder)
		}
	}()
	cur, err := os.Stat(s.dir)
	if err != nil {
		s.metrics.GuardDir.Add(1)
		return dirError(s.dir, err)
	}
	open, err := s.root.Stat(".")
	if err == nil && os.SameFile(cur, open) {
		return nil
	}
	s.log.Warn("recordings folder was replaced since it was opened; reopening")
	return s.openRoot()
}

// Close releases the recordings folder.
func (s *Sweeper) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root == nil {
		return nil
	}
	err := s.root.Close()
	s.root, s.walker = nil, nil
	return err
}

// Metrics returns the sweeper's counters, for export by the daemon.
func (s *Sweeper) Metrics() *Metrics { return &s.metrics }

// LastSweep returns the stored time of the last sweep that acted (not held back by a guard),
// by this process or another (the sweep command); zero when there was none.
func (s *Sweeper) LastSweep(ctx context.Context) (time.Time, error) {
	v, err := s.store.SweepState(ctx, stateLastSweep)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time of last sweep %q: %w", v, err)
	}
	return t, nil
}

// Recover finishes every deletion that is committed but not done: recordings in deleting
// (a withdrawal, or a sweep stopped by a crash) and intents for files without a row. It needs
// no clock and no guard: each was decided before. Files it cannot delete are in the report's
// Stuck list, and the error wraps ErrIncomplete.
func (s *Sweeper) Recover(ctx context.Context) (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	rep := newReport(now, Options{})
	if s.root == nil {
		return rep, consent.Errorf(consent.EINTERNAL, "sweeper not open")
	} else if s.readOnly {
		return rep, ErrReadOnly
	}
	// A replaced folder must not be recovered through the old handle: the files there are not
	// the ones FreeSWITCH writes, and a missing file counts as deleted.
	if err := s.checkRoot(false); err != nil {
		return rep, err
	}
	inv, err := s.dueRows(ctx, time.Time{})
	if err != nil {
		return rep, err
	}
	err = s.execute(ctx, resumeOnly(Due(inv, now, s.policy)), now, &rep)
	rep.Duration = time.Since(rep.started)
	return rep, err
}

// dueRows reads the rows that may be due at cutoff and the open intents; no files.
func (s *Sweeper) dueRows(ctx context.Context, cutoff time.Time) (Inventory, error) {
	calls, err := s.store.FindDue(ctx, cutoff)
	if err != nil {
		return Inventory{}, fmt.Errorf("find due recordings: %w", err)
	}
	intents, err := s.store.FindIntents(ctx)
	if err != nil {
		return Inventory{}, fmt.Errorf("find deletion intents: %w", err)
	}
	return Inventory{Rows: rowsFromCalls(calls), Intents: intents}, nil
}

func resumeOnly(actions []Action) []Action {
	out := actions[:0:0]
	for _, a := range actions {
		if a.Resume {
			out = append(out, a)
		}
	}
	return out
}

// FinishCommitted implements consent.Deleter: it deletes at once every recording whose
// deletion is committed (a withdrawal), with the same protocol and tombstones as a sweep. Files
// it could not delete are listed by stored path with why; they stay committed, and every sweep
// retries them.
func (s *Sweeper) FinishCommitted(ctx context.Context) (consent.DeleteResult, error) {
	rep, err := s.Recover(ctx)
	t := rep.Total()
	res := consent.DeleteResult{Files: t.Files, Bytes: t.Bytes, Failed: map[string]string{}}
	for _, st := range rep.Stuck {
		res.Failed[st.stored] = st.Path + ": " + st.Error
	}
	return res, err
}
