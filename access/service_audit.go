package access

import (
	"bytes"
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
// A prune destroys evidence, so it judges only what the key vouches for. It first verifies the
// whole chain, its object index and the head file on a read snapshot (the single writer, which
// calls' decisions wait for, is not held for the walk) and refuses, deleting nothing, unless
// they are clean: entries whose stored time was backdated fail their MAC and are never pruned.
// The cutoff is measured from the earlier of now and the newest entry's sealed time, so a clock
// running ahead prunes nothing the log itself does not show to be old. Then, in the write
// transaction that deletes, it verifies again every entry it deletes and the one it keeps
// first, and that the anchor and the newest entry are those it verified; any change refuses.
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
	var anchor Anchor
	var tail, keep Entry
	var cutoff time.Time
	var probs []Problem
	err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		if anchor, err = tx.AuditAnchor(); err != nil {
			return err
		}
		seq, _, err := tx.AuditTail()
		if err != nil {
			return err
		}
		if err := tx.AuditWalk(seq, seq, func(e Entry) error { tail = e; return nil }); err != nil {
			return err
		}
		cutoff = s.now()
		if tail.Seq > 0 && tail.Time.Before(cutoff) {
			cutoff = tail.Time
		}
		cutoff = cutoff.Add(-retention)
		v := NewVerifier(s.Key, &anchor, head)
		index, err := walkChain(tx, v, func(e Entry) {
			if keep.Seq == 0 && !e.Time.Before(cutoff) {
				keep = e // the first entry to keep: the first whose sealed time is not older
			}
		})
		probs = append(v.Finish(), index...)
		if s.Head != nil && head == nil && v.Entries > 0 {
			probs = append(probs, Problem{Kind: TamperHead, Message: fmt.Sprintf("the head file %s is missing although the log has entries", s.Head.Path)})
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	if len(probs) > 0 {
		return 0, consent.Errorf(consent.ECONFLICT, "audit log not pruned: its chain does not verify (%d problem(s), first: %s); run callconsent audit verify", len(probs), probs[0].Message)
	}
	if keep.Seq <= anchor.Seq || keep.Seq <= 1 {
		return 0, nil // nothing old enough, or nothing young enough: keep all rather than empty the log
	}
	var n int64
	err = s.update(ctx, func(tx Tx, audit func(Entry)) error {
		cur, err := tx.AuditAnchor()
		if err != nil {
			return err
		}
		changed := cur.Seq != anchor.Seq || !bytes.Equal(cur.MAC, anchor.MAC)
		v := NewVerifier(s.Key, &cur, nil)
		var last, newest Entry
		if err := tx.AuditWalk(max(cur.Seq, 1), keep.Seq, func(e Entry) error {
			v.Add(e)
			changed = changed || e.Seq < keep.Seq && !e.Time.Before(cutoff)
			last = e
			return nil
		}); err != nil {
			return err
		}
		if err := tx.AuditWalk(tail.Seq, tail.Seq, func(e Entry) error { newest = e; return nil }); err != nil {
			return err
		}
		if changed || len(v.Finish()) > 0 || last.Seq != keep.Seq || !bytes.Equal(last.MAC, keep.MAC) || !bytes.Equal(newest.MAC, tail.MAC) {
			return consent.Errorf(consent.ECONFLICT, "audit log not pruned: it changed between its verification and the prune; run callconsent audit verify")
		}
		a := Anchor{Seq: keep.Seq, PrevMAC: keep.PrevMAC}
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
