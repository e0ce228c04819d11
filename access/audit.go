package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Result is how an audited request ended.
type Result string

// The results of an audit entry.
const (
	ResultOK     Result = "ok"
	ResultDenied Result = "denied"
	ResultError  Result = "error"
)

// Object kinds an audit entry can be about.
const (
	ObjectCall    = "call"    // a call UUID
	ObjectUser    = "user"    // a user name
	ObjectGrant   = "grant"   // a grant id
	ObjectPurpose = "purpose" // a purpose name
	ObjectExport  = "export"  // an export id
)

// Object is one thing an audit entry is about. Never a caller number: a call is named by its
// UUID, a caller by nothing (a DSAR names the calls it found).
type Object struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// Entry is one line of the audit log (R-SEC-2): who did what, when, for which purpose and why,
// about which objects, and how it ended. Entries are sealed into a chain (Seal) and never
// changed; Detail holds what else a reader needs (a search's filters and how many calls it
// returned), never a password, hash or caller number.
type Entry struct {
	Seq       int64
	Time      time.Time
	Actor     string // Actor.Name
	ActorKind ActorKind
	Role      Role
	Action    string // what was done, e.g. "search", "grant.add", "login.failed"
	Purpose   string
	Reason    string
	Objects   []Object
	Result    Result
	Detail    string

	PrevMAC []byte // MAC of the entry before (the anchor's for the first kept entry)
	MAC     []byte // HMAC-SHA-256(key, PrevMAC ‖ body)
}

// About reports whether e names the object kind:id.
func (e Entry) About(kind, id string) bool {
	return slices.Contains(e.Objects, Object{Kind: kind, ID: id})
}

// body is the canonical encoding an entry's MAC covers: every field but Seq and the MACs, in a
// fixed order, as JSON (struct fields keep their order, strings are escaped one way). Seq is left
// out on purpose: the chain itself orders the entries, so a renumbering cannot hide a deletion,
// and a swap of two rows shows as a swap rather than as two changed entries.
func (e Entry) body() []byte {
	objs := append([]Object{}, e.Objects...) // never nil: no objects and an empty list are one thing
	slices.SortFunc(objs, func(a, b Object) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	b, _ := json.Marshal(struct {
		V         int      `json:"v"`
		Time      string   `json:"time"`
		Actor     string   `json:"actor"`
		ActorKind string   `json:"actor_kind"`
		Role      string   `json:"role"`
		Action    string   `json:"action"`
		Purpose   string   `json:"purpose"`
		Reason    string   `json:"reason"`
		Objects   []Object `json:"objects"`
		Result    string   `json:"result"`
		Detail    string   `json:"detail"`
	}{1, e.Time.UTC().Format(time.RFC3339Nano), e.Actor, string(e.ActorKind), string(e.Role), e.Action,
		e.Purpose, e.Reason, objs, string(e.Result), e.Detail})
	return b
}

// AuditKey is the secret of the chain's MACs, kept outside the database (audit-key-file): whoever
// can write the database but not read the key cannot forge an entry.
type AuditKey []byte

// AuditKeySize is the key's length in bytes.
const AuditKeySize = 32

// Seal sets e's PrevMAC to prev and computes its MAC.
func (k AuditKey) Seal(e *Entry, prev []byte) {
	e.PrevMAC = slices.Clone(prev)
	e.MAC = k.mac(prev, e.body())
}

// Sealed reports whether e's MAC is the one its PrevMAC and content give under k.
func (k AuditKey) Sealed(e Entry) bool {
	return hmac.Equal(e.MAC, k.mac(e.PrevMAC, e.body()))
}

func (k AuditKey) mac(prev, body []byte) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("callconsent audit v1\x00"))
	m.Write(prev)
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)
}

// Fingerprint names the key without revealing it (an HMAC of a fixed label), so the store can
// refuse a different key: entries sealed with another key would all read as tampered.
func (k AuditKey) Fingerprint() []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("callconsent audit key fingerprint v1"))
	return m.Sum(nil)
}

// Head is the last entry's sequence number and MAC, kept in a file beside the key on every
// append, so that a tail cut from the database shows.
type Head struct {
	Seq int64  `json:"seq"`
	MAC []byte `json:"mac"`
}

// Anchor records a prune: entries before Seq were deleted (older than audit-retention), and the
// first kept entry's PrevMAC must be PrevMAC. Its MAC under the key makes a forged anchor, which
// could otherwise hide a deleted head of the log, show.
type Anchor struct {
	Seq     int64 // first kept entry; 0 or 1: nothing pruned
	PrevMAC []byte
	MAC     []byte
}

// SealAnchor computes a's MAC.
func (k AuditKey) SealAnchor(a *Anchor) {
	a.MAC = k.anchorMAC(*a)
}

// AnchorSealed reports whether a's MAC is valid under k.
func (k AuditKey) AnchorSealed(a Anchor) bool { return hmac.Equal(a.MAC, k.anchorMAC(a)) }

func (k AuditKey) anchorMAC(a Anchor) []byte {
	m := hmac.New(sha256.New, k)
	b, _ := json.Marshal(struct {
		Seq  int64  `json:"seq"`
		Prev []byte `json:"prev"`
	}{a.Seq, a.PrevMAC})
	m.Write([]byte("callconsent audit anchor v1\x00"))
	m.Write(b)
	return m.Sum(nil)
}
