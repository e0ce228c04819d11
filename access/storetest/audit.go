package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
)

var testKey = access.AuditKey(bytes.Repeat([]byte{7}, 32))

// appendEntries appends n sealed entries, the i-th about call "call-<i%3>", an hour apart.
func appendEntries(t *testing.T, s access.Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		must(t, update(t, s, func(tx access.Tx) error {
			seq, mac, err := tx.AuditTail()
			if err != nil {
				return err
			}
			e := access.Entry{Seq: seq + 1, Time: t0.Add(time.Duration(seq) * time.Hour), Actor: "ann", ActorKind: access.ActorUser,
				Role: access.RoleLineManager, Action: "listen", Purpose: "training", Reason: "weekly coaching session review",
				Objects: []access.Object{{Kind: access.ObjectCall, ID: fmt.Sprintf("call-%d", seq%3)}}, Result: access.ResultOK}
			testKey.Seal(&e, mac)
			return tx.InsertAudit(e)
		}))
	}
}

func entries(t *testing.T, s access.Store, f access.AuditFilter) []access.Entry {
	t.Helper()
	var out []access.Entry
	must(t, s.Audit(context.Background(), f, func(e access.Entry) error { out = append(out, e); return nil }))
	return out
}

func testAudit(t *testing.T, s access.Store) {
	appendEntries(t, s, 6)
	all := entries(t, s, access.AuditFilter{})
	if len(all) != 6 || all[0].Seq != 1 || all[5].Seq != 6 {
		t.Fatalf("entries = %d", len(all))
	}
	v := access.NewVerifier(testKey, nil, &access.Head{Seq: 6, MAC: all[5].MAC})
	for _, e := range all {
		v.Add(e)
	}
	if p := v.Finish(); len(p) != 0 {
		t.Fatalf("stored entries do not verify: %v", p)
	}
	if got := entries(t, s, access.AuditFilter{Objects: []access.Object{{Kind: access.ObjectCall, ID: "call-1"}}}); len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 5 {
		t.Fatalf("about call-1: %+v", got)
	}
	if got := entries(t, s, access.AuditFilter{Since: t0.Add(2 * time.Hour), Until: t0.Add(4 * time.Hour)}); len(got) != 2 || got[0].Seq != 3 {
		t.Fatalf("since/until: %d", len(got))
	}
	if got := entries(t, s, access.AuditFilter{AfterSeq: 4, Limit: 1}); len(got) != 1 || got[0].Seq != 5 {
		t.Fatalf("after/limit: %+v", got)
	}
	if got := entries(t, s, access.AuditFilter{Actor: "bob"}); len(got) != 0 {
		t.Fatalf("actor bob: %d", len(got))
	}
	if got := entries(t, s, access.AuditFilter{Actor: "ann", ActorKind: access.ActorHost}); len(got) != 0 {
		t.Fatalf("actor host:ann: %d", len(got))
	}
	if got := entries(t, s, access.AuditFilter{Actor: "ann", ActorKind: access.ActorUser}); len(got) != 6 {
		t.Fatalf("actor user ann: %d", len(got))
	}
	// The walk inside a transaction and the object index: one row per entry's object.
	must(t, update(t, s, func(tx access.Tx) error {
		var seqs []int64
		if err := tx.AuditWalk(0, 0, func(e access.Entry) error { seqs = append(seqs, e.Seq); return nil }); err != nil {
			return err
		}
		var some []int64
		if err := tx.AuditWalk(2, 3, func(e access.Entry) error { some = append(some, e.Seq); return nil }); err != nil {
			return err
		}
		if len(some) != 2 || some[0] != 2 || some[1] != 3 {
			return fmt.Errorf("walk 2..3: %v", some)
		}
		var rows []access.IndexRow
		for r, err := range tx.AuditIndex() {
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
		if len(seqs) != 6 || seqs[5] != 6 || len(rows) != 6 || rows[1] != (access.IndexRow{Seq: 2, Object: access.Object{Kind: access.ObjectCall, ID: "call-1"}}) {
			return fmt.Errorf("walk %v, index %+v", seqs, rows)
		}
		return nil
	}))
	// Only the next seq may be appended.
	if err := update(t, s, func(tx access.Tx) error {
		return tx.InsertAudit(access.Entry{Seq: 9, Time: t0, Objects: nil, Result: access.ResultOK, MAC: []byte{1}})
	}); err == nil {
		t.Fatal("entry appended out of sequence")
	}
}

func testPrune(t *testing.T, s access.Store) {
	appendEntries(t, s, 5)
	all := entries(t, s, access.AuditFilter{})
	a := access.Anchor{Seq: 3, PrevMAC: all[2].PrevMAC}
	testKey.SealAnchor(&a)
	must(t, update(t, s, func(tx access.Tx) error {
		n, err := tx.PruneAudit(a)
		if n != 2 {
			t.Fatalf("pruned %d", n)
		}
		return err
	}))
	var got access.Anchor
	must(t, s.View(context.Background(), func(tx access.Tx) error {
		var err error
		got, err = tx.AuditAnchor()
		return err
	}))
	if got.Seq != 3 || !testKey.AnchorSealed(got) {
		t.Fatalf("anchor = %+v", got)
	}
	rest := entries(t, s, access.AuditFilter{})
	v := access.NewVerifier(testKey, &got, nil)
	for _, e := range rest {
		v.Add(e)
	}
	if p := v.Finish(); len(rest) != 3 || len(p) != 0 {
		t.Fatalf("after prune: %d entries, %v", len(rest), p)
	}
	// The anchor never moves back.
	if err := update(t, s, func(tx access.Tx) error { _, err := tx.PruneAudit(access.Anchor{Seq: 2}); return err }); err == nil {
		t.Fatal("anchor moved back")
	}
	appendEntries(t, s, 1)
	if got := entries(t, s, access.AuditFilter{}); got[len(got)-1].Seq != 6 {
		t.Fatal("append after prune")
	}
}

func testFingerprint(t *testing.T, s access.Store) {
	must(t, s.View(context.Background(), func(tx access.Tx) error {
		fp, err := tx.AuditKeyFingerprint()
		if fp != nil {
			t.Fatalf("fingerprint of a new store = %x", fp)
		}
		return err
	}))
	must(t, update(t, s, func(tx access.Tx) error { return tx.SetAuditKeyFingerprint(testKey.Fingerprint()) }))
	must(t, s.View(context.Background(), func(tx access.Tx) error {
		fp, err := tx.AuditKeyFingerprint()
		if !bytes.Equal(fp, testKey.Fingerprint()) {
			t.Fatalf("fingerprint = %x", fp)
		}
		return err
	}))
	if err := update(t, s, func(tx access.Tx) error { return tx.SetAuditKeyFingerprint([]byte{1}) }); err == nil {
		t.Fatal("fingerprint replaced")
	}
}
