package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/callconsent/callconsent/access"
	asqlite "github.com/callconsent/callconsent/access/sqlite"
	"github.com/callconsent/callconsent/access/storetest"
	csqlite "github.com/callconsent/callconsent/consent/sqlite"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) access.Store {
		db := csqlite.NewDB(filepath.Join(t.TempDir(), "callconsent.db"))
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return asqlite.New(db)
	})
}
