package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// SweepState returns the value the retention sweeper stored under key, or "" when none is.
func (db *DB) SweepState(ctx context.Context, key string) (string, error) {
	rd, err := db.read()
	if err != nil {
		return "", err
	}
	var v string
	err = rd.QueryRowContext(ctx, `SELECT value FROM sweep_state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, formatError(err)
}

// SetSweepState stores value under key, replacing what was there.
func (db *DB) SetSweepState(ctx context.Context, key, value string) error {
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO sweep_state (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}
