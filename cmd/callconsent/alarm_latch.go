package main

import (
	"sync"
	"time"

	"github.com/callconsent/callconsent/retention"
)

// alarmLatch holds one kind of status alarm of a background check (the database's integrity,
// the audit chain): raised with a message, it keeps the time it was first raised across later
// failures, until the check clears it. Safe for concurrent use; its zero value has no alarm.
type alarmLatch struct {
	mu    sync.Mutex
	alarm *retention.Alarm // nil while none is raised
}

// raise makes the alarm of kind active with msg, keeping the time it was first raised.
func (l *alarmLatch) raise(now time.Time, kind, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	since := now.UTC()
	if l.alarm != nil {
		since = l.alarm.Since
	}
	l.alarm = &retention.Alarm{Kind: kind, Since: since, Message: msg}
}

// clear ends the alarm and reports whether one was active.
func (l *alarmLatch) clear() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	was := l.alarm != nil
	l.alarm = nil
	return was
}

// get returns the active alarm, if any.
func (l *alarmLatch) get() (retention.Alarm, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.alarm == nil {
		return retention.Alarm{}, false
	}
	return *l.alarm, true
}
