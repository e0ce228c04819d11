package esl

import "sync"

// ChannelIDs remembers FreeSWITCH's own spelling of the UUIDs of live calls whose spelling is
// not the canonical lower case callconsent uses everywhere else. FreeSWITCH looks channels up
// case-sensitively (uuid_exists of the lower-cased UUID of an upper-case channel answers
// false), so commands about a call, such as the control connection's uuid_record stop, must
// use the channel's own spelling. The outbound server fills it while a call is live and a
// Control sharing it translates; it holds at most one entry per live call.
type ChannelIDs struct {
	mu sync.Mutex
	m  map[string]string
}

// NewChannelIDs returns an empty table.
func NewChannelIDs() *ChannelIDs { return &ChannelIDs{m: map[string]string{}} }

// add notes FreeSWITCH's spelling of a live call; nothing is kept when it is canonical.
func (t *ChannelIDs) add(canonical, fs string) {
	if t == nil || canonical == fs {
		return
	}
	t.mu.Lock()
	t.m[canonical] = fs
	t.mu.Unlock()
}

func (t *ChannelIDs) remove(canonical string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	delete(t.m, canonical)
	t.mu.Unlock()
}

// fs returns the spelling to use with FreeSWITCH for a canonical UUID.
func (t *ChannelIDs) fs(canonical string) string {
	if t == nil {
		return canonical
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.m[canonical]; ok {
		return v
	}
	return canonical
}

// Len is the number of calls whose spelling differs, for tests of the bound.
func (t *ChannelIDs) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
