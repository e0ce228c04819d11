package consent_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// The flow and reconcile tests run on the real store, a SQLite file in a temporary folder, so
// that they see its rules (transitions, a grant and its recording in one transaction, a
// withdrawal forbidding the recording) and not a copy of them. The store's own contract is
// consent/storetest.

// openStore opens a new store in a temporary folder whose clock stands at the flow tests' time.
func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "callconsent.db"))
	db.Now = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// loggedStore is the real store as the flow sees it, wrapped to write every change it
// committed into the event log the fake channel writes to as well, so that a test can assert
// the order of the two (a grant committed before record_session). A method named in fail
// returns that error without reaching the store (the key of StoreDecision is
// "StoreDecision:<decision>"); beforeGrant, when set, runs just before a grant is stored.
type loggedStore struct {
	*sqlite.DB
	log         *eventLog
	fail        map[string]error
	beforeGrant func(ctx context.Context, callUUID string)
	commits     int // writes that reached the store: each is one commit
}

func newLoggedStore(t *testing.T, log *eventLog) *loggedStore {
	return &loggedStore{DB: openStore(t), log: log, fail: map[string]error{}}
}

// logged adds events to the log if err is nil, and returns err.
func (s *loggedStore) logged(err error, events ...string) error {
	if err == nil {
		for _, e := range events {
			s.log.add(e)
		}
	}
	return err
}

func (s *loggedStore) StoreDecision(ctx context.Context, c *consent.Call) error {
	if err := s.fail["StoreDecision:"+string(c.Decision)]; err != nil {
		return err
	}
	s.commits++
	events := []string{"store:decide:" + string(c.Decision)}
	if !c.EndedAt.IsZero() {
		events = append(events, "store:end")
	}
	return s.logged(s.DB.StoreDecision(ctx, c), events...)
}

func (s *loggedStore) StoreGrant(ctx context.Context, c *consent.Call, r *consent.Recording) error {
	if err := s.fail["StoreGrant"]; err != nil {
		return err
	}
	if s.beforeGrant != nil {
		s.beforeGrant(ctx, c.UUID)
	}
	s.commits++
	return s.logged(s.DB.StoreGrant(ctx, c, r), "store:decide:granted", "store:recording:pending")
}

func (s *loggedStore) FinishCall(ctx context.Context, id string, at time.Time, end *consent.RecordingEnd) (consent.RecordingState, error) {
	s.commits++
	state, err := s.DB.FinishCall(ctx, id, at, end)
	events := []string{"store:end"}
	if end != nil && state == end.State {
		events = append(events, "store:recording:"+string(state))
	}
	return state, s.logged(err, events...)
}

// eventLog is an ordered, goroutine-safe list of what happened, across store and channel.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}
