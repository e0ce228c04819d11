package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// metaDaemonStarted is the meta row holding when the daemon that runs on this database
// started. Rows it finds in a live state (a recording pending or recording) from before that
// time were left by a process that is gone: their state is unconfirmed until reconcile asks
// FreeSWITCH and finalises them.
const metaDaemonStarted = "daemon_started_at"

// MarkDaemonStart stores t as the start of the daemon now running on this database; the daemon
// calls it at start, before it takes a call.
func (db *DB) MarkDaemonStart(ctx context.Context, t time.Time) error {
	err := db.update(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, metaDaemonStarted, formatTime(t))
		return err
	})
	if err != nil {
		return fmt.Errorf("mark daemon start: %w", err)
	}
	return nil
}

// DaemonStartedAt returns the time MarkDaemonStart stored last; zero when no daemon has run
// on this database (since this was kept).
func (db *DB) DaemonStartedAt(ctx context.Context) (time.Time, error) {
	rd, err := db.read()
	if err != nil {
		return time.Time{}, err
	}
	var v sql.NullString
	err = rd.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaDaemonStarted).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, fmt.Errorf("daemon start: %w", formatError(err))
	}
	return parseTime(v)
}
