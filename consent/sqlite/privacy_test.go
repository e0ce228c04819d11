package sqlite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
)

// TestDB_Privacy stores calls of known numbers through the whole lifecycle and then searches
// the raw bytes of the database files for those numbers in the spellings people and switches
// use (R-PSEUDO-1). It reads the files while the WAL still holds the writes and again after
// the final checkpoint, so neither copy of a page may carry a number.
func TestDB_Privacy(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, consent.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	p, err := consent.NewPseudonymizer(key)
	if err != nil {
		t.Fatal(err)
	}

	callers := []string{"+4791234567", "004798765432", "+47 412 34 567", "(+47) 22-33-44-55"}

	db := MustOpenDB(t)
	for i, number := range callers {
		c := &consent.Call{UUID: newUUID(t), CallerPseudonym: p.Pseudonym(number), Language: "nb",
			StartedAt: now.Add(time.Duration(i) * time.Minute)}
		if c.CallerPseudonym == consent.AnonymousPseudonym {
			t.Fatalf("number %d was not pseudonymised", i)
		}
		if err := db.CreateCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		r := &consent.Recording{CallUUID: c.UUID, Path: recordings.Path("/var/lib/callconsent/rec", c.UUID, c.StartedAt), StartedAt: c.StartedAt}
		if err := db.Grant(ctx, c.UUID, grantProof(c.StartedAt), r); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // half of them withdraw: reason text, deleting, tombstone
			if _, err := db.Withdraw(ctx, consent.Withdrawal{CallUUID: c.UUID, Reason: "caller asked by phone"}); err != nil {
				t.Fatal(err)
			}
			mustDelete(t, db, c.UUID, consent.ReasonWithdrawal)
		}
		// Searching by pseudonym is how withdrawal by number works; it must find the call.
		if got, err := db.FindCalls(ctx, consent.CallFilter{CallerPseudonym: p.Pseudonym(number)}); err != nil || len(got) != 1 {
			t.Fatalf("find by pseudonym: %d calls, %v", len(got), err)
		}
	}

	var spellings []string
	for _, n := range callers {
		spellings = append(spellings, numberSpellings(t, n)...)
	}

	// Before the final checkpoint: the newest pages are in the WAL.
	if fi, err := os.Stat(db.Path() + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("expected a non-empty WAL before close: %v", err)
	}
	assertNoNumbers(t, db.Path(), spellings)

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoNumbers(t, db.Path(), spellings)
}

// numberSpellings returns the ways a number may be written: as given, normalised, without the
// plus, with 00, the national part (without the country code 47) plain and grouped.
func numberSpellings(tb testing.TB, number string) []string {
	tb.Helper()
	n, ok := consent.NormalizeNumber(number)
	if !ok {
		tb.Fatalf("not a number: %q", number)
	}
	digits := strings.TrimPrefix(n, "+")
	national := strings.TrimPrefix(digits, "47")
	return []string{number, n, digits, "00" + digits, national,
		national[:3] + " " + national[3:5] + " " + national[5:],
		national[:2] + " " + national[2:4] + " " + national[4:6] + " " + national[6:]}
}

// assertNoNumbers fails if any spelling occurs in the database file or its -wal or -shm file.
func assertNoNumbers(tb testing.TB, path string, spellings []string) {
	tb.Helper()
	var checked int
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		buf, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			tb.Fatal(err)
		}
		checked++
		for _, s := range spellings {
			if bytes.Contains(buf, []byte(s)) {
				tb.Errorf("%s contains the number spelling %q", filepath.Base(p), s)
			}
		}
	}
	if checked == 0 {
		tb.Fatal("no database file found to check")
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
