package access

import (
	"iter"
	"slices"
	"strings"
)

// TamperIndex names an object index (audit_objects) that does not match the objects sealed in
// the entries: DSARs, calls show and audit list --call find entries through it, so a row deleted
// there hides an access from them while the chain itself verifies.
const TamperIndex = "index"

// walkChain feeds every entry of tx's log to v, and holds the object index against each
// entry's sealed objects (every object present, nothing extra), in one pass over both. Index
// problems are returned apart, so the chain's own findings come first.
func walkChain(tx Tx, v *Verifier, each func(Entry)) ([]Problem, error) {
	next, stop := iter.Pull2(tx.AuditIndex())
	defer stop()
	row, rerr, ok := next()
	var probs []Problem
	problem := func(seq int64, msg string) {
		if len(probs) < maxProblems {
			probs = append(probs, Problem{Kind: TamperIndex, Seq: seq, Message: msg})
		}
	}
	extra := func() {
		problem(row.Seq, "the object index names "+row.Kind+":"+row.ID+" for seq "+itoa(row.Seq)+", an entry that does not exist: the index was forged")
	}
	err := tx.AuditWalk(0, 0, func(e Entry) error {
		v.Add(e)
		if each != nil {
			each(e)
		}
		for ok && rerr == nil && row.Seq < e.Seq {
			extra()
			row, rerr, ok = next()
		}
		var got []Object
		for ok && rerr == nil && row.Seq == e.Seq {
			got = append(got, row.Object)
			row, rerr, ok = next()
		}
		if rerr != nil {
			return rerr
		}
		want := indexed(e.Objects)
		if !slices.Equal(want, got) {
			var miss, more []string
			for _, o := range want {
				if !slices.Contains(got, o) {
					miss = append(miss, o.Kind+":"+o.ID)
				}
			}
			for _, o := range got {
				if !slices.Contains(want, o) {
					more = append(more, o.Kind+":"+o.ID)
				}
			}
			msg := "the object index does not match entry " + itoa(e.Seq) + " (look-ups by call, e.g. a DSAR, would not see it as it is):"
			if len(miss) > 0 {
				msg += " missing " + strings.Join(miss, ", ")
			}
			if len(more) > 0 {
				msg += " not in the entry " + strings.Join(more, ", ")
			}
			problem(e.Seq, msg)
		}
		return nil
	})
	if err != nil {
		return probs, err
	}
	for ok && rerr == nil {
		extra()
		row, rerr, ok = next()
	}
	return probs, rerr
}

// indexed returns objs as the index holds them: unique, ordered by kind, id.
func indexed(objs []Object) []Object {
	out := slices.Clone(objs)
	slices.SortFunc(out, func(a, b Object) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return slices.Compact(out)
}
