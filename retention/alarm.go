package retention

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Alarm is a condition that keeps the sweeper from doing what policy §7 requires until an
// operator acts: the recordings folder is gone, a guard holds deletions back, or files cannot be
// deleted. It stays active until a sweep finds the condition gone; `callconsent status` lists
// every active alarm and exits non-zero. It holds no personal data: kinds, counts, times and
// paths below the recordings folder (YYYY/MM/DD/<uuid>.wav).
type Alarm struct {
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	Since   time.Time `json:"since"`
	Count   int       `json:"count,omitempty"` // stuck files: how many
	Files   []string  `json:"files,omitempty"` // stuck files: "<path> (<reason>): <error>", the first 20
}

// Kinds of Alarm.
const (
	AlarmKindFolder = "recordings-folder" // the recordings folder is missing or unreadable
	AlarmKindGuard  = "guard"             // a clock or share guard held new deletions back
	AlarmKindStuck  = "stuck-files"       // files that are due could not be deleted
)

// maxAlarmFiles bounds the files one alarm lists; the message gives the full count.
const maxAlarmFiles = 20

// Stuck is a file that is due, or whose deletion is committed, but could not be deleted: a
// folder that is not writable, a folder that is a symlink, a path outside the recordings folder.
// Its row stays marked and every sweep retries it; until one succeeds it is an alarm. It blocks
// only itself: everything else in its batch and its sweep proceeds.
type Stuck struct {
	Path   string                 `json:"path"` // below the recordings folder (as stored if outside it)
	Call   string                 `json:"call,omitempty"`
	Reason consent.DeletionReason `json:"reason"`
	Error  string                 `json:"error"`
	Since  time.Time              `json:"since"` // first failure seen by this process

	stored string // the path as stored, to match the rows of a withdrawal
}

// alarms is the sweeper's record of active alarms. It has its own lock, so that `status` is
// answered while a long sweep holds the sweeper's.
type alarms struct {
	mu     sync.Mutex
	active map[string]Alarm  // by kind; stuck files are kept apart
	stuck  map[string]Stuck  // by stored path
	now    func() time.Time  // the sweeper's wall clock
	count  func(newly int64) // counts newly raised alarms in the metrics
	// countStuck counts a file newly stuck in the metrics.
	countStuck func()
}

// raise makes the alarm of kind active with message, keeping the time it was first raised.
func (a *alarms) raise(kind, message string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.active == nil {
		a.active = map[string]Alarm{}
	}
	al, ok := a.active[kind]
	if !ok {
		al = Alarm{Kind: kind, Since: a.now().UTC()}
		a.count(1)
	}
	al.Message = message
	a.active[kind] = al
}

// clear ends the alarm of kind.
func (a *alarms) clear(kind string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.active, kind)
}

// stuckFile records a failed deletion and returns it with the time of its first failure.
func (a *alarms) stuckFile(st Stuck) Stuck {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stuck == nil {
		a.stuck = map[string]Stuck{}
	}
	if old, ok := a.stuck[st.stored]; ok {
		st.Since = old.Since
	} else {
		st.Since = a.now().UTC()
		a.count(1)
		if a.countStuck != nil {
			a.countStuck()
		}
	}
	a.stuck[st.stored] = st
	return st
}

// deleted ends the alarm of a file that is gone now.
func (a *alarms) deleted(stored string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.stuck, stored)
}

// keepOnly forgets stuck files that a complete sweep did not meet again: their rows are gone or
// no longer due, so nothing is stuck there any more.
func (a *alarms) keepOnly(seen map[string]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := range a.stuck {
		if !seen[p] {
			delete(a.stuck, p)
		}
	}
}

// stuckCount returns the number of stuck files.
func (a *alarms) stuckCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.stuck)
}

// list returns the active alarms ordered by kind.
func (a *alarms) list() []Alarm {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Alarm, 0, len(a.active)+1)
	for _, al := range a.active {
		out = append(out, al)
	}
	if len(a.stuck) > 0 {
		files := make([]Stuck, 0, len(a.stuck))
		for _, st := range a.stuck {
			files = append(files, st)
		}
		sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
		al := Alarm{Kind: AlarmKindStuck, Since: files[0].Since, Count: len(files),
			Message: fmt.Sprintf("%d file(s) due for deletion cannot be deleted; every sweep retries them", len(files))}
		for i, st := range files {
			if st.Since.Before(al.Since) {
				al.Since = st.Since
			}
			if i < maxAlarmFiles {
				al.Files = append(al.Files, fmt.Sprintf("%s (%s): %s", st.Path, st.Reason, st.Error))
			}
		}
		out = append(out, al)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// Alarms returns the sweeper's active alarms; none means retention is doing its job.
func (s *Sweeper) Alarms() []Alarm { return s.alarms.list() }
