package consent_test

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// memStore is an in-memory consent.Store for flow tests. It enforces the same transition rules
// as the real store and writes every change to a shared event log so tests can assert order.
// The SQLite store has its own tests against a real file.
type memStore struct {
	mu    sync.Mutex
	calls map[string]*consent.Call
	recs  map[string]*consent.Recording
	log   *eventLog
	fail  map[string]error // method name -> error to return
}

func newMemStore(log *eventLog) *memStore {
	return &memStore{calls: map[string]*consent.Call{}, recs: map[string]*consent.Recording{}, log: log, fail: map[string]error{}}
}

func (s *memStore) CreateCall(_ context.Context, c *consent.Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail["CreateCall"]; err != nil {
		return err
	}
	cp := *c
	cp.Decision = consent.DecisionPending // as the real store: a new call is always undecided
	s.calls[c.UUID] = &cp
	s.log.add("store:call")
	return nil
}

func (s *memStore) DecideCall(_ context.Context, id string, d consent.Decision, p *consent.Proof) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail["DecideCall:"+string(d)]; err != nil {
		return err
	}
	c, ok := s.calls[id]
	if !ok {
		return consent.Errorf(consent.ENOTFOUND, "no call")
	}
	if err := consent.CheckDecisionTransition(c.Decision, d); err != nil {
		return err
	}
	c.Decision, c.Proof = d, p
	s.log.add("store:decide:" + string(d))
	return nil
}

func (s *memStore) Grant(ctx context.Context, id string, p *consent.Proof, r *consent.Recording) error {
	if err := cmp.Or(s.fail["Grant"], s.fail["CreateRecording"]); err != nil {
		return err // one transaction: nothing of it is stored
	}
	if err := s.DecideCall(ctx, id, consent.DecisionGranted, p); err != nil {
		return err
	}
	if err := s.CreateRecording(ctx, r); err != nil {
		s.mu.Lock()
		s.calls[id].Decision, s.calls[id].Proof = consent.DecisionPending, nil // one transaction: undo
		s.mu.Unlock()
		return err
	}
	return nil
}

func (s *memStore) EndCall(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.calls[id]; ok && c.EndedAt.IsZero() {
		c.EndedAt = at
	}
	s.log.add("store:end")
	return nil
}

func (s *memStore) FindCall(_ context.Context, id string) (*consent.Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[id]
	if !ok {
		return nil, consent.Errorf(consent.ENOTFOUND, "no call")
	}
	cp := *c
	if r, ok := s.recs[id]; ok {
		rc := *r
		cp.Recording = &rc
	}
	return &cp, nil
}

func (s *memStore) FindCalls(_ context.Context, f consent.CallFilter) (out []*consent.Call, _ error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if (f.Decision == "" || c.Decision == f.Decision) && (!f.Unended || c.EndedAt.IsZero()) {
			cp := *c
			out = append(out, &cp)
		}
	}
	slices.SortFunc(out, func(a, b *consent.Call) int { // newest first, as the real store
		return cmp.Or(b.StartedAt.Compare(a.StartedAt), strings.Compare(b.UUID, a.UUID))
	})
	out = out[min(f.Offset, len(out)):]
	if f.Limit > 0 {
		out = out[:min(f.Limit, len(out))]
	}
	return out, nil
}

func (s *memStore) CreateRecording(_ context.Context, r *consent.Recording) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail["CreateRecording"]; err != nil {
		return err
	}
	c, ok := s.calls[r.CallUUID]
	if !ok || c.Decision != consent.DecisionGranted || c.Withdrawn() {
		return consent.Errorf(consent.ECONFLICT, "no grant")
	}
	cp := *r
	s.recs[r.CallUUID] = &cp
	s.log.add("store:recording:pending")
	return nil
}

func (s *memStore) UpdateRecording(_ context.Context, id string, to consent.RecordingState, u consent.RecordingUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[id]
	if !ok {
		return consent.Errorf(consent.ENOTFOUND, "no recording")
	}
	if err := consent.CheckRecordingTransition(r.State, to); err != nil {
		return err
	}
	r.State = to
	if !u.EndedAt.IsZero() {
		r.EndedAt = u.EndedAt
	}
	if u.Bytes != 0 {
		r.Bytes = u.Bytes
	}
	if u.DurationMS != 0 {
		r.DurationMS = u.DurationMS
	}
	s.log.add("store:recording:" + string(to))
	return nil
}

func (s *memStore) FindRecordings(_ context.Context, f consent.RecordingFilter) (out []*consent.Recording, _ error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.recs {
		for _, st := range f.States {
			if r.State == st {
				cp := *r
				out = append(out, &cp)
			}
		}
	}
	return out, nil
}

func (s *memStore) Withdraw(_ context.Context, w consent.Withdrawal) (*consent.Recording, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[w.CallUUID]
	if !ok {
		return nil, consent.Errorf(consent.ENOTFOUND, "no call")
	}
	c.WithdrawnAt = w.At
	r, ok := s.recs[w.CallUUID]
	if !ok {
		return nil, nil
	}
	if r.State != consent.RecordingDeleted && r.State != consent.RecordingDeleting {
		r.State = consent.RecordingDeleting
	}
	cp := *r
	return &cp, nil
}

func (s *memStore) FinishDeletion(context.Context, consent.Tombstone) error { return nil }

func (s *memStore) FindTombstones(context.Context, time.Time) ([]*consent.Tombstone, error) {
	return nil, nil
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
