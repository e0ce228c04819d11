package sqlite_test

import (
	"context"
	"database/sql"
	"reflect"
	"testing"

	"github.com/callconsent/callconsent/consent/sqlite"
)

// TestTx_OnlyRunsStatements: a write function shares its transaction with other callers'
// writes, so the *Tx it gets must not let it end that transaction for them. It may run
// statements and nothing else: no Commit or Rollback, no method that takes a context (a
// caller's ctx that ends interrupts the statement, and SQLite then rolls the whole shared
// transaction back), none that hands out the *sql.Tx or a *sql.Stmt (whose ExecContext takes a
// ctx again), and no exported field.
func TestTx_OnlyRunsStatements(t *testing.T) {
	typ := reflect.TypeFor[*sqlite.Tx]()
	forbidden := map[reflect.Type]string{
		reflect.TypeFor[context.Context](): "a context",
		reflect.TypeFor[*sql.Tx]():         "the *sql.Tx",
		reflect.TypeFor[*sql.Stmt]():       "a *sql.Stmt",
		reflect.TypeFor[*sql.Conn]():       "a *sql.Conn",
	}
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		switch m.Name {
		case "Commit", "Rollback":
			t.Errorf("Tx.%s: a write can end the batch it shares", m.Name)
		}
		for j := 1; j < m.Type.NumIn(); j++ { // In(0) is the receiver
			if what, ok := forbidden[m.Type.In(j)]; ok {
				t.Errorf("Tx.%s takes %s", m.Name, what)
			}
		}
		for j := range m.Type.NumOut() {
			if what, ok := forbidden[m.Type.Out(j)]; ok {
				t.Errorf("Tx.%s returns %s", m.Name, what)
			}
		}
	}
	for i := range typ.Elem().NumField() {
		if f := typ.Elem().Field(i); f.IsExported() {
			t.Errorf("Tx has the exported field %s (%s)", f.Name, f.Type)
		}
	}
}
