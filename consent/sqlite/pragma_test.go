package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

func TestVersionAtLeast(t *testing.T) {
	for _, tt := range []struct {
		have string
		want bool
	}{
		{"3.54.1", true},
		{"3.51.3", true},
		{"3.51.3.1", true},
		{"3.52.0", true},
		{"3.100.0", true}, // numeric, not lexical: 100 > 51
		{"4.0.0", true},
		{"3.51.2", false},
		{"3.51", false},  // missing patch counts as 0
		{"3.9.9", false}, // lexically "3.9" > "3.51", numerically older
		{"3.45.1", false},
		{"2.99.99", false},
	} {
		got, err := versionAtLeast(tt.have, MinSQLiteVersion)
		if err != nil {
			t.Fatalf("%s: %v", tt.have, err)
		} else if got != tt.want {
			t.Errorf("versionAtLeast(%q, %q) = %v, want %v", tt.have, MinSQLiteVersion, got, tt.want)
		}
	}

	t.Run("ErrMalformed", func(t *testing.T) {
		for _, v := range []string{"", "3.x.1", "3..1", "v3.51.3", "3.-1.0"} {
			if _, err := versionAtLeast(v, MinSQLiteVersion); err == nil {
				t.Errorf("versionAtLeast(%q) accepted a malformed version", v)
			}
		}
	})
}

// TestDB_Pragmas reads the settings back from every open connection of both pools.
func TestDB_Pragmas(t *testing.T) {
	ctx := context.Background()
	db := NewDB(filepath.Join(t.TempDir(), "callconsent.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	for _, pool := range []struct {
		name      string
		db        *sql.DB
		conns     int
		queryOnly int
	}{
		{"writer", db.writer, 1, 0},
		{"reader", db.reader, readConns, 1},
	} {
		t.Run(pool.name, func(t *testing.T) {
			if got := pool.db.Stats().MaxOpenConnections; got != pool.conns {
				t.Fatalf("max open conns = %d, want %d", got, pool.conns)
			}
			var held []*sql.Conn
			defer func() {
				for _, c := range held {
					c.Close()
				}
			}()
			for i := 0; i < pool.conns; i++ {
				c, err := pool.db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, c)
				s, err := readSettings(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				want := connSettings{JournalMode: "wal", Synchronous: 2, ForeignKeys: 1, BusyTimeout: 5000, SecureDelete: 1, QueryOnly: pool.queryOnly}
				if s != want {
					t.Fatalf("conn %d: settings %+v, want %+v", i, s, want)
				}
			}
		})
	}

	t.Run("ReaderRefusesWrites", func(t *testing.T) {
		_, err := db.reader.ExecContext(ctx, `INSERT INTO tombstones (path, deleted_at, reason) VALUES ('/x', '2025', 'orphan')`)
		if err == nil {
			t.Fatal("read pool accepted a write")
		}
	})
}

// TestCheckConn proves that Open would refuse connections with unsafe settings.
func TestCheckConn(t *testing.T) {
	ctx := context.Background()
	for name, tt := range map[string]struct {
		dsn  string
		want string
	}{
		"ErrSynchronousNormal": {"?_journal_mode=WAL&_foreign_keys=on&_secure_delete=on&_busy_timeout=5000", "synchronous"},
		"ErrNotWAL":            {"?_synchronous=FULL&_foreign_keys=on&_secure_delete=on&_busy_timeout=5000", "journal_mode"},
		"ErrForeignKeysOff":    {"?_journal_mode=WAL&_synchronous=FULL&_secure_delete=on&_busy_timeout=5000", "foreign_keys"},
		"ErrBusyTimeoutShort":  {"?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on&_secure_delete=on&_busy_timeout=100", "busy_timeout"},
		"ErrSecureDeleteOff":   {"?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on&_busy_timeout=5000", "secure_delete"},
	} {
		t.Run(name, func(t *testing.T) {
			// A file of its own: WAL mode, once set, persists in the file.
			path := filepath.Join(t.TempDir(), "callconsent.db")
			raw, err := sql.Open("sqlite3", "file:"+path+tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			raw.SetMaxOpenConns(1)
			err = checkConn(ctx, raw, "writer", DefaultBusyTimeout)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a refusal naming %s", err, tt.want)
			}
		})
	}
}
