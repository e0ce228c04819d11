package main

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/callconsent/callconsent/recordings"
)

// holdings keeps a census of the recordings folder for the metrics (recordings_held, bytes,
// the oldest recording's age). A census walks every day folder, so it runs in the background:
// at start, after each scheduled sweep, and every sweep interval even when no sweep runs (a
// stalled schedule must show as a growing oldest age, not as a frozen one). Scrapes only read
// the last result. New → Open → Close.
type holdings struct {
	dir   string
	every time.Duration
	log   *slog.Logger
	now   func() time.Time

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	census recordings.Census
	at     time.Time // of the last census that read the folder; zero before
}

// newHoldings returns the census of dir, not yet running; set every (the sweep interval)
// before Open.
func newHoldings(dir string, logger *slog.Logger) *holdings {
	return &holdings{dir: dir, log: logger.With("system", "census"), now: time.Now, kick: make(chan struct{}, 1)}
}

// Open starts the census loop; the first census runs at once.
func (h *holdings) Open(ctx context.Context) error {
	ctx, h.cancel = context.WithCancel(ctx)
	h.done = make(chan struct{})
	go h.loop(ctx)
	return nil
}

// Close stops the loop and waits for a census under way.
func (h *holdings) Close() error {
	if h.cancel != nil {
		h.cancel()
		<-h.done
		h.cancel = nil
	}
	return nil
}

// Kick asks for a census soon; a request while one is pending is merged with it.
func (h *holdings) Kick() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

func (h *holdings) loop(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		h.run(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.kick:
		}
	}
}

// run takes one census. A folder it cannot read leaves the last census in place (its
// timestamp then ages, and the oldest age keeps growing); the sweeper raises the alarm.
func (h *holdings) run(ctx context.Context) {
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		h.log.Warn("census of the recordings folder failed", "err", err)
		return
	}
	defer root.Close()
	c, err := recordings.NewWalker(root, h.dir, h.log).Census(ctx)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("census of the recordings folder failed", "err", err)
		}
		return
	}
	h.mu.Lock()
	h.census, h.at = c, h.now()
	h.mu.Unlock()
}

// snapshot returns the last census and when it was taken (zero: none yet).
func (h *holdings) snapshot() (recordings.Census, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.census, h.at
}

// oldestAge is the age of the oldest recording now, from the last census: it keeps growing
// between two censuses, as the recording does. 0 when there is none.
func (h *holdings) oldestAge() float64 {
	c, _ := h.snapshot()
	if c.Oldest.IsZero() {
		return 0
	}
	return max(h.now().Sub(c.Oldest).Seconds(), 0)
}
