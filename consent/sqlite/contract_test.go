package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/consent/storetest"
)

// TestContract runs the consent store's contract (consent/storetest) on a new SQLite file per
// test. What only SQLite promises (a restart, the schema's triggers, file modes, the batch of
// group commit) is tested in this package's other files.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now time.Time) storetest.Store {
		db := sqlite.NewDB(filepath.Join(t.TempDir(), "callconsent.db"))
		db.Now = func() time.Time { return now }
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
