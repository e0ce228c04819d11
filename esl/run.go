package esl

import (
	"strconv"
	"time"
)

// run is one execute of ours as FreeSWITCH reported it: from its CHANNEL_EXECUTE to its
// CHANNEL_EXECUTE_COMPLETE, with the first key the caller pressed in between. Times are
// FreeSWITCH's own Event-Date-Timestamp (µs since the epoch); the local arrival times are the
// fallback for a peer that leaves a stamp out.
type run struct {
	start, end           int64
	startLocal, endLocal time.Time
	done                 *event // the EXECUTE_COMPLETE; nil until it came

	key      string // the first DTMF after the start, "" if none
	keyAt    int64
	keyLocal time.Time
}

// elapsed is how long the execute ran, by FreeSWITCH's clock where both stamps exist.
func (r run) elapsed() time.Duration { return between(r.start, r.end, r.startLocal, r.endLocal) }

// keyAfter is how long after its start the first key came; negative when none did.
func (r run) keyAfter() time.Duration {
	if r.key == "" {
		return -1
	}
	return between(r.start, r.keyAt, r.startLocal, r.keyLocal)
}

func between(from, to int64, fromLocal, toLocal time.Time) time.Duration {
	if from > 0 && to >= from {
		return time.Duration(to-from) * time.Microsecond
	}
	if fromLocal.IsZero() || toLocal.Before(fromLocal) {
		return 0
	}
	return toLocal.Sub(fromLocal)
}

// stamp is the event's Event-Date-Timestamp, 0 when absent or malformed.
func (e event) stamp() int64 {
	v, _ := e.lookup("Event-Date-Timestamp")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
