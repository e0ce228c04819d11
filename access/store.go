package access

import (
	"context"
	"iter"
	"time"
)

// Store keeps users, grants, purposes, sessions and the audit log. Service is its only user.
// Update runs fn in one write transaction: a change and its audit entry commit together or not
// at all. View runs fn on a consistent read snapshot; writes in it fail. access/sqlite
// implements it; access/storetest is the contract every implementation passes.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
	// Audit calls fn with the entries matching f, in sequence order, streaming: the log can be
	// years long. fn's error stops the walk and is returned.
	Audit(ctx context.Context, f AuditFilter, fn func(Entry) error) error
}

// Tx is one transaction of a Store. Missing rows are ENOTFOUND, duplicates ECONFLICT (consent's
// codes). Times are stored in UTC with nanoseconds.
type Tx interface {
	// User returns the user named name.
	User(name string) (User, error)
	// Users returns every user, ordered by name.
	Users() ([]User, error)
	// InsertUser adds u; an existing name is ECONFLICT.
	InsertUser(u User) error
	// UpdateUser stores every field of u but Name and CreatedAt/By.
	UpdateUser(u User) error

	// Grant returns grant id.
	Grant(id int64) (Grant, error)
	// Grants returns user's grants ("": everyone's), ordered by id.
	Grants(user string) ([]Grant, error)
	// InsertGrant stores g and sets g.ID.
	InsertGrant(g *Grant) error
	// RevokeGrant stores RevokedAt/By/Reason of g.ID, once.
	RevokeGrant(g Grant) error

	// Purpose returns the purpose named name.
	Purpose(name string) (Purpose, error)
	// Purposes returns every purpose, retired ones too, ordered by name.
	Purposes() ([]Purpose, error)
	// InsertPurpose stores p; an existing name (retired too) is ECONFLICT.
	InsertPurpose(p Purpose) error
	// RetirePurpose stores RetiredAt/By/Reason of p.Name, once.
	RetirePurpose(p Purpose) error

	// Session returns the session with this token hash.
	Session(tokenHash []byte) (Session, error)
	// Sessions returns user's sessions, oldest first.
	Sessions(user string) ([]Session, error)
	// InsertSession stores s.
	InsertSession(s Session) error
	// TouchSession sets the session's LastUsed.
	TouchSession(tokenHash []byte, at time.Time) error
	// DeleteSession ends one session (none: no error).
	DeleteSession(tokenHash []byte) error
	// DeleteSessions ends all of user's sessions and says how many there were.
	DeleteSessions(user string) (int, error)

	// AuditTail returns the last entry's seq and MAC; with no entry, the prune anchor's
	// (Seq-1, PrevMAC); with neither, (0, nil).
	AuditTail() (seq int64, mac []byte, err error)
	// InsertAudit appends a sealed entry; its Seq must be the tail's + 1.
	InsertAudit(e Entry) error
	// AuditAnchor returns the prune anchor; a log never pruned has Seq 0.
	AuditAnchor() (Anchor, error)
	// AuditWalk calls fn with the entries from seq from to seq to (0: to the end) in sequence
	// order inside this transaction, so verify reads the log and its index on one snapshot and a
	// prune re-checks, in its own write, the entries it cuts. fn's error stops the walk.
	AuditWalk(from, to int64, fn func(Entry) error) error
	// AuditIndex yields the object index's rows (the look-up by call that a DSAR, calls show
	// and audit list --call use) ordered by seq, kind, id, so verify can hold it against the
	// entries in the same snapshot.
	AuditIndex() iter.Seq2[IndexRow, error]
	// PruneAudit deletes the entries before a.Seq and stores a as the anchor, in one step.
	PruneAudit(a Anchor) (int64, error)
	// AuditKeyFingerprint returns the stored fingerprint of the audit key, nil if none.
	AuditKeyFingerprint() ([]byte, error)
	SetAuditKeyFingerprint(fp []byte) error
}

// IndexRow is one row of the audit log's object index: entry Seq is about Object.
type IndexRow struct {
	Seq int64
	Object
}

// AuditFilter selects audit entries; zero fields select everything.
type AuditFilter struct {
	Since, Until time.Time // Until exclusive
	Actor        string
	// ActorKind narrows Actor to one kind (audit list --actor host:ACCOUNT); "" any.
	ActorKind ActorKind
	Action    string
	// Objects selects entries about any of these objects (e.g. a DSAR's calls).
	Objects []Object
	// AfterSeq starts after this sequence number (paging).
	AfterSeq int64
	// Limit bounds the entries returned (0: all).
	Limit int
}

// Session is a web console login. Only the SHA-256 of its random token is stored, so a copy of
// the database lets nobody in.
type Session struct {
	TokenHash []byte
	User      string
	CreatedAt time.Time
	LastUsed  time.Time
}
