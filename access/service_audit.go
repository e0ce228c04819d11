package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// MaxAuditList bounds one audit list: a reader pages with AuditFilter.AfterSeq.
const MaxAuditList = 10000

// AuditEntries returns the entries matching f for a security officer (R-SEC-2), at most
// MaxAuditList; the reading is itself audited with its filter.
func (s *Service) AuditEntries(ctx context.Context, by Actor, f AuditFilter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > MaxAuditList {
		f.Limit = MaxAuditList
	}
	e := entryFor(by, "audit.list")
	e.Detail = describeFilter(f)
	err := s.update(ctx, func(tx Tx, audit func(Entry)) error {
		return s.authorizeTx(tx, by, ActionReadAudit, "", "", &e, audit)
	})
	if err != nil {
		return nil, err
	}
	var out []Entry
	if err := s.Store.Audit(ctx, f, func(en Entry) error { out = append(out, en); return nil }); err != nil {
		return nil, err
	}
	e.Detail = joinDetail(e.Detail, fmt.Sprintf("returned %d", len(out)))
	if _, err := s.Append(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}

func describeFilter(f AuditFilter) string {
	d := ""
	add := func(k, v string) { d = joinDetail(d, k+"="+v) }
	if !f.Since.IsZero() {
		add("since", f.Since.UTC().Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		add("until", f.Until.UTC().Format(time.RFC3339))
	}
	if f.Actor != "" {
		add("actor", f.Actor)
	}
	if f.ActorKind != "" {
		add("actor_kind", string(f.ActorKind))
	}
	if f.Action != "" {
		add("action", f.Action)
	}
	for _, o := range f.Objects {
		add(o.Kind, o.ID)
	}
	return d
}

// Report is the outcome of Verify.
type Report struct {
	Entries  int64     `json:"entries"`
	FirstSeq int64     `json:"first_seq"`
	Head     *Head     `json:"head"`
	Problems []Problem `json:"problems"`
}

// OK reports whether the log verified.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Verify checks the whole chain against the key and the head file (see Verifier). The
// verification is audited with its result; a tampered log is an ok run of verify that found
// problems (detail), not an error.
func (s *Service) Verify(ctx context.Context, by Actor) (Report, error) {
	e := entryFor(by, "audit.verify")
	err := s.update(ctx, func(tx Tx, audit func(Entry)) error {
		return s.authorizeTx(tx, by, ActionVerifyAudit, "", "", &e, audit)
	})
	if err != nil {
		return Report{}, err
	}
	rep, err := s.verify(ctx)
	if err != nil {
		return rep, err
	}
	e.Detail = fmt.Sprintf("%d entries, %d problems", rep.Entries, len(rep.Problems))
	if !rep.OK() {
		e.Detail += ": " + rep.Problems[0].Message
	}
	if _, err := s.Append(ctx, e); err != nil && !(errors.Is(err, ErrChainBroken) && !rep.OK()) {
		return rep, err
	}
	// A log that refuses new entries (ErrChainBroken) is still verified, or its problem could
	// not be named: the report shows no personal data, so it goes out unrecorded.
	return rep, nil
}

// verify reads the head file first (so appends during the walk cannot look like a cut tail),
// then walks the log and its object index on one read snapshot.
func (s *Service) verify(ctx context.Context) (Report, error) {
	var rep Report
	var err error
	if s.Head != nil {
		if rep.Head, err = s.Head.Read(); err != nil {
			return rep, err
		}
	}
	var index []Problem
	var v *Verifier
	err = s.Store.View(ctx, func(tx Tx) error {
		anchor, err := tx.AuditAnchor()
		if err != nil {
			return err
		}
		v = NewVerifier(s.Key, &anchor, rep.Head)
		index, err = walkChain(tx, v, func(e Entry) {
			if rep.FirstSeq == 0 {
				rep.FirstSeq = e.Seq
			}
		})
		return err
	})
	if err != nil {
		return rep, err
	}
	rep.Problems = append(v.Finish(), index...)
	rep.Entries = v.Entries
	if s.Head != nil && rep.Head == nil && rep.Entries > 0 {
		// Every append writes the head file: a log with entries and no head file lost it,
		// and with it the means to see a cut tail.
		rep.Problems = append(rep.Problems, Problem{Kind: TamperHead, Seq: 0,
			Message: fmt.Sprintf("the head file %s is missing although the log has entries: a cut tail cannot be told; restore it from the backup of the audit key", s.Head.Path)})
	}
	return rep, nil
}

// Prune deletes the entries older than retention (audit-retention), keeping the rest
// verifiable: a sealed anchor records where the log now starts and the MAC it follows. It
// returns how many entries went. The prune itself is the first entry after.
//
// A prune destroys evidence, so it judges only what the key vouches for: in the same
// transaction as the delete it verifies the whole chain (and the head file) and refuses,
// deleting nothing, unless it is clean, so entries whose stored time was backdated (which
// breaks their MAC) are never pruned. The cutoff is measured from the earlier of now and the
// newest entry's sealed time: a clock running ahead prunes nothing the log itself does not
// show to be old.
func (s *Service) Prune(ctx context.Context, by Actor, retention time.Duration) (int64, error) {
	if retention <= 0 {
		return 0, consent.Errorf(consent.EINVALID, "audit retention must be positive")
	}
	var head *Head
	if s.Head != nil {
		var err error
		if head, err = s.Head.Read(); err != nil {
			return 0, err
		}
	}
	var n int64
	err := s.update(ctx, func(tx Tx, audit func(Entry)) error {
		a, err := tx.AuditAnchor()
		if err != nil {
			return err
		}
		v := NewVerifier(s.Key, &a, head)
		var newest time.Time
		index, err := walkChain(tx, v, func(e Entry) { newest = e.Time })
		if err != nil {
			return err
		}
		if probs := append(v.Finish(), index...); len(probs) > 0 {
			return consent.Errorf(consent.ECONFLICT, "audit log not pruned: its chain does not verify (%d problem(s), first: %s); run callconsent audit verify", len(probs), probs[0].Message)
		}
		if s.Head != nil && head == nil && v.Entries > 0 {
			return consent.Errorf(consent.ECONFLICT, "audit log not pruned: the head file %s is missing; run callconsent audit verify", s.Head.Path)
		}
		cutoff := s.now()
		if newest.Before(cutoff) {
			cutoff = newest
		}
		cutoff = cutoff.Add(-retention)
		// The first entry to keep: the first whose sealed time is not older than the cutoff.
		var keep Entry
		errFound := errors.New("found")
		if err := tx.AuditWalk(func(e Entry) error {
			if e.Time.Before(cutoff) {
				return nil
			}
			keep = e
			return errFound
		}); !errors.Is(err, errFound) {
			return err // nothing newer: keep all rather than empty the log
		}
		if keep.Seq <= a.Seq || keep.Seq <= 1 {
			return nil
		}
		a = Anchor{Seq: keep.Seq, PrevMAC: keep.PrevMAC}
		s.Key.SealAnchor(&a)
		if n, err = tx.PruneAudit(a); err != nil {
			return err
		}
		e := entryFor(by, "audit.prune")
		e.Detail = fmt.Sprintf("entries before seq %d pruned (%d), older than %s", keep.Seq, n, cutoff.Format(time.RFC3339))
		audit(e)
		return nil
	})
	return n, err
}
