package sqlite_test

import (
	"context"
	"testing"

	"github.com/callconsent/callconsent/consent"
)

// TestDB_GrantDurable: the grant and its recording row survive a restart (the contract's Grant
// tests, consent/storetest, cover the rest).
func TestDB_GrantDurable(t *testing.T) {
	db := MustOpenDB(t)
	c, r := MustGrant(t, db, now)
	db = MustReopenDB(t, db)
	got, err := db.FindCall(context.Background(), c.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Decision != consent.DecisionGranted || got.Proof == nil || got.Recording == nil || *got.Recording != *r {
		t.Fatalf("call %+v, recording %+v, want granted with %+v", got, got.Recording, r)
	}
}
