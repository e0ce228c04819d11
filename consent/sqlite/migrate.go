package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/callconsent/callconsent/consent"
)

// migrationFS holds the schema as numbered files, applied in name order. A file once released
// is never edited: a change is a new file.
//
//go:embed migration/*.sql
var migrationFS embed.FS

// migrationNames returns the embedded migrations' base names in the order they apply.
func migrationNames() ([]string, error) {
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return nil, err
	}
	for i := range names {
		names[i] = path.Base(names[i])
	}
	sort.Strings(names)
	return names, nil
}

// migrate applies the embedded migrations not yet recorded in the migrations table, one
// transaction each, so a failure leaves the schema at the last complete migration.
func (db *DB) migrate(ctx context.Context) error {
	if err := db.update(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`CREATE TABLE IF NOT EXISTS migrations (
			name       TEXT PRIMARY KEY NOT NULL,
			applied_at TEXT NOT NULL
		) STRICT`)
		return err
	}); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}

	names, err := migrationNames()
	if err != nil {
		return err
	}
	if err := db.checkKnownMigrations(ctx, names); err != nil {
		return err
	}
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// checkKnownMigrations refuses a database on which a newer binary applied a migration this
// one does not know: running old code on a newer schema could bypass its constraints.
func (db *DB) checkKnownMigrations(ctx context.Context, known []string) error {
	rows, err := db.writer.QueryContext(ctx, `SELECT name FROM migrations ORDER BY name`)
	if err != nil {
		return formatError(err)
	}
	defer rows.Close()

	isKnown := make(map[string]bool, len(known))
	for _, n := range known {
		isKnown[n] = true
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if !isKnown[name] {
			return consent.Errorf(consent.ECONFLICT,
				"database has migration %q that this binary does not know: it was written by a newer callconsent; refusing to open (upgrade callconsent or restore a matching backup)", name)
		}
	}
	return formatError(rows.Err())
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	return db.update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		} else if n != 0 {
			return nil // applied before
		}

		buf, err := migrationFS.ReadFile("migration/" + name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(string(buf)); err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, formatTime(tx.now))
		return err
	})
}
