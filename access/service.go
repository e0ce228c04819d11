package access

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Service is the only path to anything access-controlled: logins, user, grant and purpose
// changes, and every authorization to search, listen, export or read the audit log. It audits
// every decision, denials included, in the same transaction as the change it allows; a request
// whose entry cannot be written is refused (fail safe: no record, no access).
type Service struct {
	Store  Store
	Hasher Hasher
	Key    AuditKey
	// Head keeps the chain's head outside the database; nil in tests that need none.
	Head *HeadFile

	// Logger gets what cannot be returned (a head file that could not be written).
	Logger *slog.Logger

	// Now returns the current time; tests set a fixed clock.
	Now func() time.Time

	// IdleTimeout and MaxAge end web sessions (session-idle-timeout, session-max-age);
	// MaxSessions bounds one user's sessions, the oldest ending first.
	IdleTimeout time.Duration
	MaxAge      time.Duration
	MaxSessions int

	// dummyHash is verified for an unknown user, so that the reply takes as long as for a
	// known one. It is made at the first login of the process (every login waits for it, so
	// an unknown name is not the only one that pays), not at Open: commands that never log
	// anyone in should not pay a hash.
	dummyOnce sync.Once
	dummyHash string
	dummyErr  error

	// hashing holds a slot per hash under way (MaxHashing): each takes 64 MiB and a core for a
	// tenth of a second, and a flood of logins must not take the host's memory or CPU.
	hashing chan struct{}
}

// MaxHashing bounds the password hashes computed at once by one Service; more logins wait
// for a slot (or their context's end).
const MaxHashing = 2

// Session defaults (README: session-idle-timeout, session-max-age).
const (
	DefaultIdleTimeout = 15 * time.Minute
	DefaultMaxAge      = 8 * time.Hour
	DefaultMaxSessions = 8
)

// NewService returns a Service over store, hashing with h, sealing with key.
func NewService(store Store, h Hasher, key AuditKey, head *HeadFile) *Service {
	return &Service{Store: store, Hasher: h, Key: key, Head: head, Now: time.Now, Logger: slog.Default(), hashing: make(chan struct{}, MaxHashing),
		IdleTimeout: DefaultIdleTimeout, MaxAge: DefaultMaxAge, MaxSessions: DefaultMaxSessions}
}

// Open binds the store to the audit key: the first Open stores the key's fingerprint, later
// ones refuse a different key (an audit log checked with the wrong key reads as all forged,
// and entries sealed with it would not verify with the right one).
func (s *Service) Open(ctx context.Context) error {
	if len(s.Key) < AuditKeySize {
		return consent.Errorf(consent.EINVALID, "audit key must be %d bytes", AuditKeySize)
	}
	fp := s.Key.Fingerprint()
	err := s.Store.Update(ctx, func(tx Tx) error {
		stored, err := tx.AuditKeyFingerprint()
		if err != nil {
			return err
		} else if stored == nil {
			return tx.SetAuditKeyFingerprint(fp)
		} else if !bytes.Equal(stored, fp) {
			return consent.Errorf(consent.EINVALID, "the audit key file holds another key than the one this database's audit log was sealed with: restore the audit key file from a backup")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	return nil
}

// dummy returns the hash verified for unknown users.
func (s *Service) dummy() (string, error) {
	s.dummyOnce.Do(func() {
		s.dummyHash, s.dummyErr = s.hash(context.Background(), "callconsent-dummy-password-for-unknown-users")
	})
	return s.dummyHash, s.dummyErr
}

// slot waits for a hashing slot; release gives it back.
func (s *Service) slot(ctx context.Context) (release func(), err error) {
	select {
	case s.hashing <- struct{}{}:
		return func() { <-s.hashing }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to hash a password: %w", ctx.Err())
	}
}

// hash hashes password in a slot.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	release, err := s.slot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return s.Hasher.Hash(password)
}

// verifyPassword checks password against phc in a slot.
func (s *Service) verifyPassword(ctx context.Context, password, phc string) (bool, error) {
	release, err := s.slot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return s.Hasher.Verify(password, phc)
}

// Close releases nothing today; it is here so wiring treats Service like every component.
func (s *Service) Close() error { return nil }

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// appendTx seals e behind the log's tail inside tx and inserts it. The head file is written by
// update after the commit.
func (s *Service) appendTx(tx Tx, e *Entry) error {
	seq, mac, err := tx.AuditTail()
	if err != nil {
		return err
	}
	e.Seq = seq + 1
	cleanEntry(e)
	if s.Head != nil {
		hd, err := s.Head.Read()
		if err != nil {
			return err
		}
		// The head file names the last entry ever sealed. A log that does not reach it lost its
		// tail; sealing new entries over the gap would reuse those seqs and, once past the head,
		// make the cut verify. Refuse, so the gap stays visible until someone restores the log.
		if hd != nil && (hd.Seq >= e.Seq || hd.Seq == seq && !bytes.Equal(hd.MAC, mac)) {
			return ErrChainBroken
		}
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	s.Key.Seal(e, mac)
	return tx.InsertAudit(*e)
}

// update runs fn and then appends the entries fn built, all in one transaction, then writes the
// head file. fn's error is returned after its entries (denials, failures) are still written in
// a second transaction: a refused request leaves its trace even though its change is undone.
func (s *Service) update(ctx context.Context, fn func(tx Tx, audit func(Entry)) error) error {
	var entries []Entry
	audit := func(e Entry) { entries = append(entries, e) }
	var last Entry
	fnErr := s.Store.Update(ctx, func(tx Tx) error {
		entries = entries[:0]
		if err := fn(tx, audit); err != nil {
			return err
		}
		for i := range entries {
			if err := s.appendTx(tx, &entries[i]); err != nil {
				return err
			}
			last = entries[i]
		}
		return nil
	})
	if fnErr == nil {
		if len(entries) > 0 {
			s.writeHead(last)
		}
		return nil
	}
	if len(entries) == 0 {
		return fnErr
	}
	// The change failed; its entries (with what failed) are written on their own, even when
	// the request's context has ended: a refusal leaves its trace whoever hung up.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditWriteTimeout)
	defer cancel()
	err := s.Store.Update(wctx, func(tx Tx) error {
		for i := range entries {
			if entries[i].Result == ResultOK {
				entries[i].Result = ResultError
				entries[i].Detail = joinDetail(entries[i].Detail, "error: "+consent.ErrorMessage(fnErr))
			}
			if err := s.appendTx(tx, &entries[i]); err != nil {
				return err
			}
			last = entries[i]
		}
		return nil
	})
	if err != nil {
		return errors.Join(fnErr, fmt.Errorf("audit: %w", err))
	}
	s.writeHead(last)
	return fnErr
}

// ErrChainBroken is returned for every entry while the log does not end at the entry the head
// file names (its tail was cut or replaced): no entry is sealed, so the request that needed one
// is refused (no record, no access), until the database is restored. Calls never wait on the
// audit log, so they go on.
var ErrChainBroken error = consent.Errorf(consent.ECONFLICT, "the audit log does not reach the entry its head file names (its tail was cut or replaced): no new entry is written until the database is restored; run callconsent audit verify")

// auditWriteTimeout bounds the write of a refusal's or failure's entry after its request's
// context ended.
const auditWriteTimeout = 10 * time.Second

// Append writes one entry to the audit log on its own, for events that change nothing in the
// access store (a withdrawal, a forced sweep, a host read, an export's file). Its Time defaults
// to now; Seq and the MACs are set here.
func (s *Service) Append(ctx context.Context, e Entry) (Entry, error) {
	if e.Result == "" {
		e.Result = ResultOK
	}
	err := s.Store.Update(ctx, func(tx Tx) error { return s.appendTx(tx, &e) })
	if err != nil {
		return Entry{}, fmt.Errorf("audit: %w", err)
	}
	s.writeHead(e)
	return e, nil
}

// writeHead records e as the head. A failure is not the request's failure (the entry is
// committed): the head file then lags, which verify accepts, and the next append catches up.
func (s *Service) writeHead(e Entry) {
	if s.Head == nil {
		return
	}
	if err := s.Head.Advance(Head{Seq: e.Seq, MAC: e.MAC}); err != nil && s.Logger != nil {
		s.Logger.Error("audit head file not written: audit verify will see it lag until the next entry", "err", err)
	}
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// entryFor starts an audit entry by actor.
func entryFor(actor Actor, action string) Entry {
	return Entry{Actor: actor.Name, ActorKind: actor.Kind, Role: actor.Role, Action: action, Result: ResultOK}
}

// denied is the error a refused request returns: ECONFLICT (exit 4, refused) with the reason.
func denied(d Decision) error {
	return consent.Errorf(consent.ECONFLICT, "access denied: %s", d.Why)
}
