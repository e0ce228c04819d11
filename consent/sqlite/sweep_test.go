package sqlite_test

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/recordings"
)

// sweepRecording stores a granted call started at at with a recording moved to state to
// (complete, failed or deleting) and returns the call.
func sweepRecording(t *testing.T, db *sqlite.DB, at time.Time, to consent.RecordingState) *consent.Call {
	t.Helper()
	ctx := context.Background()
	c := MustCreateCall(t, db, pseudonym(t), at)
	path := recordings.Path("/rec", c.UUID, at)
	if err := db.Grant(ctx, c.UUID, grantProof(at), &consent.Recording{CallUUID: c.UUID, Path: path, StartedAt: at}); err != nil {
		t.Fatal(err)
	}
	steps := map[consent.RecordingState][]consent.RecordingState{
		consent.RecordingComplete: {consent.RecordingRecording, consent.RecordingComplete},
		consent.RecordingFailed:   {consent.RecordingFailed},
		consent.RecordingDeleting: {consent.RecordingRecording, consent.RecordingComplete, consent.RecordingDeleting},
	}[to]
	for _, s := range steps {
		if err := db.UpdateRecording(ctx, c.UUID, s, consent.RecordingUpdate{Bytes: 10}); err != nil {
			t.Fatal(err)
		}
	}
	c.Recording = &consent.Recording{CallUUID: c.UUID, Path: path, State: to, StartedAt: at, Bytes: 10}
	return c
}

func TestFindDue(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	cutoff := now.Add(-90 * 24 * time.Hour)
	old := sweepRecording(t, db, cutoff.Add(-time.Nanosecond), consent.RecordingComplete)
	sweepRecording(t, db, cutoff, consent.RecordingComplete) // at the cutoff: not due
	young := sweepRecording(t, db, now.Add(-time.Hour), consent.RecordingComplete)
	failed := sweepRecording(t, db, now.Add(-time.Hour), consent.RecordingFailed)
	deleting := sweepRecording(t, db, now.Add(-time.Hour), consent.RecordingDeleting)
	withdrawn := sweepRecording(t, db, now.Add(-2*time.Hour), consent.RecordingComplete)
	if _, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: withdrawn.UUID}); err != nil {
		t.Fatal(err)
	}
	gone := sweepRecording(t, db, cutoff.Add(-time.Hour), consent.RecordingDeleting)
	mustDelete(t, db, gone.UUID, consent.ReasonRetention)

	calls, err := db.FindDue(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range calls {
		got = append(got, c.UUID)
		if c.Recording == nil || c.Recording.Path == "" || c.Decision != consent.DecisionGranted {
			t.Errorf("call %s without its recording or decision", c.UUID)
		}
	}
	want := []string{old.UUID, failed.UUID, deleting.UUID, withdrawn.UUID}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("due %v, want %v (young %s)", got, want, young.UUID)
	}

	// FindCallsByUUID finds calls with and without a recording, and leaves out unknown ones.
	declined := MustCreateCall(t, db, pseudonym(t), now)
	found, err := db.FindCallsByUUID(ctx, []string{young.UUID, declined.UUID, newUUID(t)})
	if err != nil || len(found) != 2 {
		t.Fatalf("FindCallsByUUID: %d %v", len(found), err)
	}
	if n, err := db.CountRecordings(ctx); err != nil || n != 6 {
		t.Fatalf("CountRecordings = %d, %v; want 6 not deleted", n, err)
	}
}

// TestFindDue_Plan: every part of the due query reads through an index. A full scan of
// recordings would make each sweep O(all recordings).
func TestFindDue_Plan(t *testing.T) {
	db := MustOpenDB(t)
	sweepRecording(t, db, now, consent.RecordingComplete)
	conn, err := sql.Open("sqlite3", "file:"+db.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`EXPLAIN QUERY PLAN `+sqlite.FindDueQuery, "2025-01-01T00:00:00.000000000Z")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "INDEX") && !strings.Contains(line, "SUBQUERY") {
			t.Errorf("full scan in the due query: %q\nplan:\n%s", line, strings.Join(plan, "\n"))
		}
	}
}

// TestMarkAndFinishDeletions: the two commits around an unlink are idempotent, a row and an
// orphan each get exactly one tombstone, only the orphan needs an intent row (the row's
// deleting state is its intent), and intents are gone afterwards.
func TestMarkAndFinishDeletions(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	c := sweepRecording(t, db, now.Add(-100*24*time.Hour), consent.RecordingFailed)
	row := consent.Tombstone{CallUUID: c.UUID, Path: c.Recording.Path, Reason: consent.ReasonFailed}
	orphan := consent.Tombstone{Path: "/rec/2024/01/01/stray.wav", Reason: consent.ReasonOrphan, Bytes: 3}

	for range 2 {
		marked, err := db.MarkDeleting(ctx, []consent.Tombstone{row, orphan})
		if err != nil || len(marked) != 2 {
			t.Fatalf("MarkDeleting: %v %v", marked, err)
		}
	}
	if got, _ := db.FindCall(ctx, c.UUID); got.Recording.State != consent.RecordingDeleting {
		t.Fatalf("row is %s", got.Recording.State)
	}
	if intents, err := db.FindIntents(ctx); err != nil || len(intents) != 1 || intents[0].Reason != consent.ReasonOrphan {
		t.Fatalf("intents %v %v", intents, err)
	}
	for i, want := range []int{2, 0} {
		if n, err := db.FinishDeletions(ctx, []consent.Tombstone{row, orphan}); err != nil || n != want {
			t.Fatalf("FinishDeletions #%d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	// A deleted row's file may be unlinked again, but gets no second tombstone.
	if marked, err := db.MarkDeleting(ctx, []consent.Tombstone{row}); err != nil || len(marked) != 1 {
		t.Fatalf("MarkDeleting a deleted row: %v %v", marked, err)
	}
	if n, err := db.FinishDeletions(ctx, []consent.Tombstone{row}); err != nil || n != 0 {
		t.Fatalf("FinishDeletions of a deleted row = %d, %v", n, err)
	}
	if got, _ := db.FindCall(ctx, c.UUID); got.Recording.State != consent.RecordingDeleted {
		t.Fatalf("deleted row is %s", got.Recording.State)
	}
	if ts := mustTombstones(t, db); len(ts) != 2 || ts[0].Bytes != 10 {
		t.Fatalf("tombstones %v", ts)
	}
	if intents, _ := db.FindIntents(ctx); len(intents) != 0 {
		t.Fatalf("intents left: %v", intents)
	}
}

// TestPurgeCalls deletes call metadata past retention once its audio is gone, keeps the rest,
// and keeps the tombstones.
func TestPurgeCalls(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	cutoff := now.Add(-90 * 24 * time.Hour)
	gone := sweepRecording(t, db, cutoff.Add(-time.Hour), consent.RecordingDeleting)
	mustDelete(t, db, gone.UUID, consent.ReasonRetention)
	declined := MustCreateCall(t, db, pseudonym(t), cutoff.Add(-time.Hour))
	kept := sweepRecording(t, db, cutoff.Add(-time.Hour), consent.RecordingComplete) // audio not gone yet
	young := MustCreateCall(t, db, pseudonym(t), now)

	if n, err := db.PurgeCalls(ctx, cutoff); err != nil || n != 2 {
		t.Fatalf("PurgeCalls = %d, %v; want 2", n, err)
	}
	for _, u := range []string{gone.UUID, declined.UUID} {
		if _, err := db.FindCall(ctx, u); consent.ErrorCode(err) != consent.ENOTFOUND {
			t.Errorf("call %s not purged: %v", u, err)
		}
	}
	for _, u := range []string{kept.UUID, young.UUID} {
		if _, err := db.FindCall(ctx, u); err != nil {
			t.Errorf("call %s purged: %v", u, err)
		}
	}
	if ts := mustTombstones(t, db); len(ts) != 1 {
		t.Fatalf("tombstones after purge: %v", ts)
	}
}

func TestSweepState(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	if v, err := db.SweepState(ctx, "k"); err != nil || v != "" {
		t.Fatalf("unset: %q %v", v, err)
	}
	for _, want := range []string{"a", "b"} {
		if err := db.SetSweepState(ctx, "k", want); err != nil {
			t.Fatal(err)
		}
		if v, err := db.SweepState(ctx, "k"); err != nil || v != want {
			t.Fatalf("got %q %v, want %q", v, err, want)
		}
	}
}

// TestSweepStatements_Plan: the batch statements of MarkDeleting and FinishDeletions loop over
// the batch and look each path up through an index. A scan of recordings, tombstones or
// deletion_intents would make every batch O(all recordings).
func TestSweepStatements_Plan(t *testing.T) {
	db := MustOpenDB(t)
	sweepRecording(t, db, now, consent.RecordingComplete)
	conn, err := sql.Open("sqlite3", "file:"+db.Path()+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1) // the temp table lives in one connection
	if _, err := conn.Exec(sqlite.SweepBatchCreate); err != nil {
		t.Fatal(err)
	}
	for _, q := range sqlite.SweepStatements {
		rows, err := conn.Query(`EXPLAIN QUERY PLAN ` + q)
		if err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, line := range plan {
			if strings.HasPrefix(line, "SCAN ") && !strings.HasPrefix(line, "SCAN b") &&
				!strings.HasPrefix(line, "SCAN temp.sweep_batch") {
				t.Errorf("scan of a table other than the batch: %q\nplan:\n%s\nquery:%s", line, strings.Join(plan, "\n"), q)
			}
		}
	}
}

// TestMarkAndFinishDeletions_Refused: a batch that names the path of another call's recording,
// or finishes a recording that is not deleting, is refused as a whole and changes nothing; a
// path named twice in one batch gets one tombstone.
func TestMarkAndFinishDeletions_Refused(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := sweepRecording(t, db, now.Add(-100*24*time.Hour), consent.RecordingComplete)
	b := sweepRecording(t, db, now.Add(-100*24*time.Hour), consent.RecordingComplete)
	rowA := consent.Tombstone{CallUUID: a.UUID, Path: a.Recording.Path, Reason: consent.ReasonRetention}
	rowB := consent.Tombstone{CallUUID: b.UUID, Path: b.Recording.Path, Reason: consent.ReasonRetention}
	stolen := consent.Tombstone{CallUUID: a.UUID, Path: b.Recording.Path, Reason: consent.ReasonRetention}
	orphan := consent.Tombstone{Path: "/rec/2024/01/01/stray.wav", Reason: consent.ReasonOrphan}

	if _, err := db.MarkDeleting(ctx, []consent.Tombstone{rowA, orphan, stolen}); consent.ErrorCode(err) != consent.EINVALID {
		t.Fatalf("MarkDeleting with another call's path: %v, want EINVALID", err)
	}
	if _, err := db.MarkDeleting(ctx, []consent.Tombstone{{Path: b.Recording.Path, Reason: consent.ReasonOrphan}}); consent.ErrorCode(err) != consent.EINVALID {
		t.Fatalf("MarkDeleting a row's path as an orphan: %v, want EINVALID", err)
	}
	if got, _ := db.FindCall(ctx, a.UUID); got.Recording.State != consent.RecordingComplete {
		t.Fatalf("refused batch moved a row to %s", got.Recording.State)
	}
	if intents, _ := db.FindIntents(ctx); len(intents) != 0 {
		t.Fatalf("refused batch left intents: %v", intents)
	}

	if _, err := db.MarkDeleting(ctx, []consent.Tombstone{rowA, orphan}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FinishDeletions(ctx, []consent.Tombstone{rowA, rowB}); consent.ErrorCode(err) != consent.ECONFLICT {
		t.Fatalf("FinishDeletions of a complete row: %v, want ECONFLICT", err)
	}
	if ts := mustTombstones(t, db); len(ts) != 0 {
		t.Fatalf("refused batch wrote tombstones: %v", ts)
	}
	if n, err := db.FinishDeletions(ctx, []consent.Tombstone{orphan, rowA, orphan, rowA}); err != nil || n != 2 {
		t.Fatalf("FinishDeletions with paths named twice = %d, %v; want 2", n, err)
	}
	ts := mustTombstones(t, db)
	if len(ts) != 2 {
		t.Fatalf("tombstones %v", ts)
	}
	for _, tb := range ts {
		if tb.Path == a.Recording.Path && (tb.CallUUID != a.UUID || tb.Bytes != 10) {
			t.Errorf("row tombstone %+v: want the row's call and size", tb)
		}
		if tb.Path == orphan.Path && tb.CallUUID != "" {
			t.Errorf("orphan tombstone %+v names a call", tb)
		}
	}
}
