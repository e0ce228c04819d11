package consent

import "sync"

// LiveCalls tracks the calls the daemon is driving right now, so that a withdrawal can reach a
// call in progress (R-WITHDRAW-2): it stops the recording and makes sure no recording of that
// call starts afterwards. The zero value is not usable; call NewLiveCalls.
type LiveCalls struct {
	mu    sync.Mutex
	calls map[string]*liveCall
}

type liveCall struct {
	withdrawn bool
	path      string // recording path once record_session may have been sent
}

// NewLiveCalls returns an empty registry.
func NewLiveCalls() *LiveCalls { return &LiveCalls{calls: make(map[string]*liveCall)} }

// Add registers a call as live. It reports false if the UUID is already live (a duplicate
// hand-over from FreeSWITCH), which the flow must not drive twice.
func (l *LiveCalls) Add(uuid string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.calls[uuid]; ok {
		return false
	}
	l.calls[uuid] = &liveCall{}
	return true
}

// Remove forgets a call once its flow is over.
func (l *LiveCalls) Remove(uuid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.calls, uuid)
}

// Len returns the number of live calls.
func (l *LiveCalls) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.calls)
}

// BeginRecording claims the right to start recording a call to path. It reports false when
// the call was withdrawn (or is unknown): then no record_session may be sent. Check and claim
// happen under one lock, so a withdrawal either comes first and forbids the start, or comes
// second and learns the path it must stop.
func (l *LiveCalls) BeginRecording(uuid, path string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.calls[uuid]
	if !ok || c.withdrawn {
		return false
	}
	c.path = path
	return true
}

// Withdraw marks a live call as withdrawn. It reports whether the call is live here and the
// recording path to stop ("" when no recording was begun).
func (l *LiveCalls) Withdraw(uuid string) (live bool, path string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.calls[uuid]
	if !ok {
		return false, ""
	}
	c.withdrawn = true
	return true, c.path
}

// Withdrawn reports whether a live call was withdrawn.
func (l *LiveCalls) Withdrawn(uuid string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.calls[uuid]
	return ok && c.withdrawn
}

// Has reports whether a call is live here.
func (l *LiveCalls) Has(uuid string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.calls[uuid]
	return ok
}
