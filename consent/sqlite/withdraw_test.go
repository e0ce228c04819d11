package sqlite_test

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

func TestDB_Withdraw(t *testing.T) {
	ctx := context.Background()
	t.Run("LiveRecording", func(t *testing.T) {
		db := MustOpenDB(t)
		c := mustRecordingIn(t, db, consent.RecordingRecording)
		at := now.Add(time.Hour)
		rec, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID, At: at, Reason: "ticket 4711"})
		if err != nil {
			t.Fatal(err)
		} else if rec == nil || rec.State != consent.RecordingDeleting {
			t.Fatalf("returned recording %+v, want state deleting", rec)
		}
		got := mustFindCall(t, db, c.UUID)
		if !got.WithdrawnAt.Equal(at) || !got.Withdrawn() || got.WithdrawalReason != "ticket 4711" {
			t.Fatalf("withdrawn at %v (%q), want %v (ticket 4711)", got.WithdrawnAt, got.WithdrawalReason, at)
		} else if !reflect.DeepEqual(got.Recording, rec) {
			t.Fatalf("stored %+v, returned %+v", got.Recording, rec)
		}
		// Nothing more may be recorded for this call.
		wantCode(t, db.UpdateRecording(ctx, c.UUID, consent.RecordingComplete, consent.RecordingUpdate{}), consent.EINVALID)
	})

	t.Run("TwiceKeepsFirst", func(t *testing.T) {
		db := MustOpenDB(t)
		c := mustRecordingIn(t, db, consent.RecordingComplete)
		first := now.Add(time.Hour)
		if _, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID, At: first, Reason: "first"}); err != nil {
			t.Fatal(err)
		}
		rec, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID, At: first.Add(time.Hour), Reason: "second"})
		if err != nil {
			t.Fatal(err)
		} else if rec.State != consent.RecordingDeleting {
			t.Fatalf("state %s, want deleting", rec.State)
		}
		if got := mustFindCall(t, db, c.UUID); !got.WithdrawnAt.Equal(first) {
			t.Fatalf("withdrawn at %v, want the first time %v", got.WithdrawnAt, first)
		}
		if reason := rawQueryString(t, db.Path(), `SELECT withdrawal_reason FROM calls WHERE uuid = ?`, c.UUID); reason != "first" {
			t.Fatalf("reason %q, want the first", reason)
		}
	})

	t.Run("AlreadyDeleted", func(t *testing.T) {
		db := MustOpenDB(t)
		c := mustRecordingIn(t, db, consent.RecordingDeleted)
		rec, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID})
		if err != nil {
			t.Fatal(err)
		} else if rec.State != consent.RecordingDeleted {
			t.Fatalf("state %s, want deleted", rec.State)
		}
		if got := mustFindCall(t, db, c.UUID); !got.WithdrawnAt.Equal(now) {
			t.Fatalf("withdrawn at %v, want the transaction time %v", got.WithdrawnAt, now)
		}
	})

	t.Run("NoRecording", func(t *testing.T) {
		db := MustOpenDB(t)
		c := MustCreateCall(t, db, pseudonym(t), now) // withdrawn while still at the prompt
		rec, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID})
		if err != nil {
			t.Fatal(err)
		} else if rec != nil {
			t.Fatalf("got recording %+v, want nil", rec)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := MustOpenDB(t).Withdraw(ctx, consent.Withdrawal{CallUUID: newUUID(t)})
		wantCode(t, err, consent.ENOTFOUND)
	})
}

func TestDB_FinishDeletion(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := MustOpenDB(t)
		c := mustRecordingIn(t, db, consent.RecordingComplete)
		if err := db.UpdateRecording(ctx, c.UUID, consent.RecordingDeleting, consent.RecordingUpdate{Bytes: 4096}); err != nil {
			t.Fatal(err)
		}
		rec := mustFindCall(t, db, c.UUID).Recording
		if err := db.FinishDeletion(ctx, consent.Tombstone{CallUUID: c.UUID, Reason: consent.ReasonRetention}); err != nil {
			t.Fatal(err)
		}
		if got := mustFindCall(t, db, c.UUID).Recording.State; got != consent.RecordingDeleted {
			t.Fatalf("state %s, want deleted", got)
		}
		want := []*consent.Tombstone{{CallUUID: c.UUID, Path: rec.Path, DeletedAt: now, Reason: consent.ReasonRetention, Bytes: 4096}}
		if got := mustTombstones(t, db, time.Time{}); !reflect.DeepEqual(got, want) {
			t.Fatalf("tombstones %+v, want %+v", got[0], want[0])
		}
	})

	t.Run("ByPath", func(t *testing.T) {
		db := MustOpenDB(t)
		c := mustRecordingIn(t, db, consent.RecordingDeleting)
		rec := mustFindCall(t, db, c.UUID).Recording
		if err := db.FinishDeletion(ctx, consent.Tombstone{Path: rec.Path, Reason: consent.ReasonWithdrawal}); err != nil {
			t.Fatal(err)
		}
		if got := mustTombstones(t, db, time.Time{}); got[0].CallUUID != c.UUID {
			t.Fatalf("tombstone call %q, want %q", got[0].CallUUID, c.UUID)
		}
	})

	t.Run("Orphan", func(t *testing.T) {
		db := MustOpenDB(t)
		at := now.Add(-time.Hour)
		for _, ts := range []consent.Tombstone{
			{Path: "/rec/2025/03/14/stray.wav", Reason: consent.ReasonOrphan, Bytes: 44, DeletedAt: at},
			{CallUUID: newUUID(t), Path: "/rec/2025/03/14/declined.wav", Reason: consent.ReasonNotGranted},
		} {
			if err := db.FinishDeletion(ctx, ts); err != nil {
				t.Fatal(err)
			}
		}
		got := mustTombstones(t, db, time.Time{})
		if len(got) != 2 || got[0].CallUUID != "" || got[0].Bytes != 44 || !got[0].DeletedAt.Equal(at) || got[1].Reason != consent.ReasonNotGranted {
			t.Fatalf("tombstones %+v %+v", got[0], got[1])
		}
		if since := mustTombstones(t, db, now); len(since) != 1 {
			t.Fatalf("since now: %d tombstones, want 1", len(since))
		}
	})

	t.Run("ErrNotDeleting", func(t *testing.T) {
		db := MustOpenDB(t)
		c := mustRecordingIn(t, db, consent.RecordingComplete)
		wantCode(t, db.FinishDeletion(ctx, consent.Tombstone{CallUUID: c.UUID, Reason: consent.ReasonRetention}), consent.EINVALID)
		if got := mustTombstones(t, db, time.Time{}); len(got) != 0 {
			t.Fatalf("refused deletion wrote %d tombstones", len(got))
		}
	})

	t.Run("ErrTwice", func(t *testing.T) {
		db := MustOpenDB(t)
		c := mustRecordingIn(t, db, consent.RecordingDeleted)
		wantCode(t, db.FinishDeletion(ctx, consent.Tombstone{CallUUID: c.UUID, Reason: consent.ReasonRetention}), consent.EINVALID)
	})

	t.Run("ErrPathOfOtherCall", func(t *testing.T) {
		db := MustOpenDB(t)
		c := mustRecordingIn(t, db, consent.RecordingDeleting)
		path := mustFindCall(t, db, c.UUID).Recording.Path
		wantCode(t, db.FinishDeletion(ctx, consent.Tombstone{CallUUID: newUUID(t), Path: path, Reason: consent.ReasonRetention}), consent.EINVALID)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		db := MustOpenDB(t)
		for name, ts := range map[string]consent.Tombstone{
			"empty":      {Reason: consent.ReasonOrphan},
			"bad reason": {Path: "/rec/x.wav", Reason: "tidy"},
			"bad uuid":   {CallUUID: "x", Path: "/rec/x.wav", Reason: consent.ReasonOrphan},
		} {
			if err := db.FinishDeletion(ctx, ts); consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("%s: err = %v, want EINVALID", name, err)
			}
		}
		wantCode(t, db.FinishDeletion(ctx, consent.Tombstone{CallUUID: newUUID(t), Reason: consent.ReasonRetention}), consent.ENOTFOUND)
	})
}

func TestDB_Stats(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	mustRecordingIn(t, db, consent.RecordingComplete)
	mustRecordingIn(t, db, consent.RecordingDeleted)
	c := mustRecordingIn(t, db, consent.RecordingRecording)
	if _, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID}); err != nil {
		t.Fatal(err)
	}
	MustCreateCall(t, db, pseudonym(t), now)

	s, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Calls[consent.DecisionGranted] != 3 || s.Calls[consent.DecisionPending] != 1 || s.Calls[consent.DecisionDeclined] != 0 {
		t.Fatalf("calls %v", s.Calls)
	}
	wantRec := map[consent.RecordingState]int{consent.RecordingPending: 0, consent.RecordingRecording: 0,
		consent.RecordingComplete: 1, consent.RecordingFailed: 0, consent.RecordingDeleting: 1, consent.RecordingDeleted: 1}
	if !reflect.DeepEqual(s.Recordings, wantRec) || s.Withdrawn != 1 || s.Tombstones != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func mustTombstones(tb testing.TB, db *sqlite.DB, since time.Time) []*consent.Tombstone {
	tb.Helper()
	ts, err := db.FindTombstones(context.Background(), since)
	if err != nil {
		tb.Fatal(err)
	}
	return ts
}

// rawQueryString reads one value straight from the file, for columns the domain does not expose.
func rawQueryString(tb testing.TB, path, query string, args ...any) string {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var s string
	if err := db.QueryRow(query, args...).Scan(&s); err != nil {
		tb.Fatal(err)
	}
	return s
}
