package access

import (
	"bytes"
	"fmt"
)

// Kinds of tampering Verifier names.
const (
	TamperChanged  = "changed"  // an entry's content no longer matches its MAC
	TamperDeleted  = "deleted"  // an entry is missing between two others
	TamperInserted = "inserted" // an entry no key holder sealed sits in the chain
	TamperSwapped  = "swapped"  // two neighbouring entries changed places
	TamperCutTail  = "cut-tail" // the log ends before the head file's entry
	TamperHead     = "head"     // the entry the head file names is not the one it recorded
	TamperAnchor   = "anchor"   // the prune anchor is not sealed by the key
)

// Problem is one finding of Verifier.
type Problem struct {
	Kind    string `json:"kind"`
	Seq     int64  `json:"seq"`
	Message string `json:"message"`
}

// Verifier checks the audit chain entry by entry, in sequence order, keeping at most two
// entries: the log can be years long, and verifying it must not need it in memory. Each entry
// must be sealed by the key (else it was changed or inserted) and must name the MAC of the one
// before (else one was deleted, or two swapped); the last must reach the head file's entry (else
// the tail was cut). Add every entry, then Finish.
type Verifier struct {
	key      AuditKey
	head     *Head
	expected []byte  // the MAC the next entry's PrevMAC must be
	lastSeq  int64   // the last entry taken
	buf      []Entry // at most two: the entry being judged and the one after
	headSeen bool

	// Entries counts the entries added.
	Entries  int64
	Problems []Problem
}

// maxProblems bounds the findings kept: past a few hundred, the log is rewritten, not tampered.
const maxProblems = 1000

// NewVerifier returns a Verifier for a log pruned up to anchor (nil: never pruned) whose head
// file says head (nil: no head file, so a cut tail cannot be told).
func NewVerifier(key AuditKey, anchor *Anchor, head *Head) *Verifier {
	v := &Verifier{key: key, head: head}
	if anchor != nil && anchor.Seq > 1 {
		if !key.AnchorSealed(*anchor) {
			v.problem(TamperAnchor, anchor.Seq, "the prune anchor (entries before seq %d pruned) is not sealed by the audit key: the head of the log may have been deleted", anchor.Seq)
		}
		v.expected = anchor.PrevMAC
		v.lastSeq = anchor.Seq - 1
	}
	return v
}

// Add takes the next entry in sequence order.
func (v *Verifier) Add(e Entry) {
	v.Entries++
	v.buf = append(v.buf, e)
	if len(v.buf) == 2 {
		v.step()
	}
}

// Finish judges the entries left and the tail against the head, and returns the problems.
func (v *Verifier) Finish() []Problem {
	for len(v.buf) > 0 {
		v.step()
	}
	if h := v.head; h != nil {
		switch {
		case v.lastSeq < h.Seq:
			v.problem(TamperCutTail, v.lastSeq+1, "the log ends at seq %d but the head file names seq %d: entries %d to %d were cut from the tail", v.lastSeq, h.Seq, v.lastSeq+1, h.Seq)
		case !v.headSeen && h.Seq > 0:
			v.problem(TamperHead, h.Seq, "the entry at seq %d is not the one the head file recorded (its MAC differs): it was replaced", h.Seq)
		}
	}
	return v.Problems
}

// step judges buf[0] with buf[1] (if any) as lookahead and consumes one or two entries.
func (v *Verifier) step() {
	cur := v.buf[0]
	var next *Entry
	if len(v.buf) > 1 {
		next = &v.buf[1]
	}
	sealed := v.key.Sealed(cur)
	linked := bytes.Equal(cur.PrevMAC, v.expected)
	switch {
	case sealed && linked:
		v.take(cur)
	case !sealed && (next != nil && bytes.Equal(next.PrevMAC, v.expected) || next == nil && v.head != nil && cur.Seq > v.head.Seq):
		// The chain goes on around it: nobody with the key made it.
		v.problem(TamperInserted, cur.Seq, "entry %d was inserted: it is not sealed by the audit key and the chain skips it", cur.Seq)
		v.lastSeq = cur.Seq
	case !sealed:
		v.problem(TamperChanged, cur.Seq, "entry %d was changed: its content does not match its MAC", cur.Seq)
		v.take(cur)
	case next != nil && v.key.Sealed(*next) && bytes.Equal(next.PrevMAC, v.expected) && bytes.Equal(cur.PrevMAC, next.MAC):
		v.problem(TamperSwapped, cur.Seq, "entries %d and %d were swapped: each is sealed, in the other's place", cur.Seq, next.Seq)
		v.take(*next)
		v.take(cur)
		v.buf = v.buf[1:]
	default:
		v.problem(TamperDeleted, cur.Seq, "entries were deleted between seq %d and seq %d: entry %d does not follow the one before it", v.lastSeq, cur.Seq, cur.Seq)
		v.take(cur)
	}
	v.buf = v.buf[1:]
}

func (v *Verifier) take(e Entry) {
	v.expected = e.MAC
	if e.Seq > v.lastSeq {
		v.lastSeq = e.Seq
	}
	if v.head != nil && e.Seq == v.head.Seq && bytes.Equal(e.MAC, v.head.MAC) {
		v.headSeen = true
	}
}

func (v *Verifier) problem(kind string, seq int64, format string, args ...any) {
	if len(v.Problems) < maxProblems {
		v.Problems = append(v.Problems, Problem{Kind: kind, Seq: seq, Message: fmt.Sprintf(format, args...)})
	}
}
