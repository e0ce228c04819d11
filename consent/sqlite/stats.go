package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/callconsent/callconsent/consent"
)

// Stats counts what the store holds, for metrics and the printed policy. Every known decision
// and state is present in the maps, with zero when nothing has it, so gauges do not vanish.
type Stats struct {
	Calls      map[consent.Decision]int
	Withdrawn  int // calls whose consent was withdrawn, of any decision
	Recordings map[consent.RecordingState]int
	Tombstones int
}

// Stats returns the counts from one read snapshot, so the numbers agree with each other. The
// queries use the decision and state indexes and stay cheap for a daily scrape.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	s := Stats{
		Calls:      make(map[consent.Decision]int, len(consent.Decisions)),
		Recordings: make(map[consent.RecordingState]int, len(consent.RecordingStates)),
	}
	for _, d := range consent.Decisions {
		s.Calls[d] = 0
	}
	for _, st := range consent.RecordingStates {
		s.Recordings[st] = 0
	}

	rd, err := db.read()
	if err != nil {
		return s, err
	}
	tx, err := rd.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s, fmt.Errorf("stats: %w", formatError(err))
	}
	defer tx.Rollback()

	if err := countBy(ctx, tx, `SELECT decision, COUNT(*) FROM calls GROUP BY decision`, func(k string, n int) {
		s.Calls[consent.Decision(k)] = n
	}); err != nil {
		return s, fmt.Errorf("stats calls: %w", err)
	}
	if err := countBy(ctx, tx, `SELECT state, COUNT(*) FROM recordings GROUP BY state`, func(k string, n int) {
		s.Recordings[consent.RecordingState(k)] = n
	}); err != nil {
		return s, fmt.Errorf("stats recordings: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls WHERE withdrawn_at IS NOT NULL`).Scan(&s.Withdrawn); err != nil {
		return s, fmt.Errorf("stats withdrawn: %w", formatError(err))
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tombstones`).Scan(&s.Tombstones); err != nil {
		return s, fmt.Errorf("stats tombstones: %w", formatError(err))
	}
	return s, nil
}

func countBy(ctx context.Context, tx *sql.Tx, query string, set func(key string, n int)) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		set(k, n)
	}
	return formatError(rows.Err())
}
