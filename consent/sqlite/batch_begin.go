package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// beginWait returns how long BEGIN may wait for another connection's lock: the busy timeout,
// or less if every op has a deadline, up to the latest of them. Past it every caller of the
// batch has given up, and waiting on would only delay the batches queued behind.
func beginWait(ops []*writeOp, busyTimeout time.Duration) time.Duration {
	var latest time.Time
	for _, op := range ops {
		d, ok := op.ctx.Deadline()
		if !ok {
			return busyTimeout
		}
		if d.After(latest) {
			latest = d
		}
	}
	return min(busyTimeout, time.Until(latest))
}

// begin starts the batch transaction on the writer connection, waiting at most wait for the
// lock; a lazy batch's COMMIT will not fsync (synchronous=NORMAL, see DB.updateLazy). The
// caller hands conn to release after the transaction ends.
//
// The wait is bounded by lowering busy_timeout for this one BEGIN, not by a context:
// sqlite3_interrupt does not stop SQLite's busy handler, so a context would not shorten the
// wait, and database/sql rolls a transaction back when its context ends, which would take the
// batch's writes with it after BEGIN succeeded.
func (c *committer) begin(wait time.Duration, lazy bool) (*sql.Conn, *sql.Tx, error) {
	bg := context.Background()
	conn, err := c.writer.Conn(bg)
	if err != nil {
		return nil, nil, err
	}
	if lazy {
		if _, err := conn.ExecContext(bg, `PRAGMA synchronous = NORMAL`); err != nil {
			c.release(conn, true)
			return nil, nil, err
		}
	}
	if wait >= c.busyTimeout {
		tx, err := conn.BeginTx(bg, nil)
		if err != nil {
			c.release(conn, lazy)
			return nil, nil, err
		}
		return conn, tx, nil
	}

	if err := setBusyTimeout(conn, wait); err != nil {
		discard(conn)
		return nil, nil, err
	}
	tx, err := conn.BeginTx(bg, nil)
	// Restored at once, so that the writes of the batch, Checkpoint and every later BEGIN
	// without deadlines wait the full busy timeout again. On the same connection while the
	// transaction is open, the PRAGMA simply runs inside it.
	if rerr := setBusyTimeout(conn, c.busyTimeout); rerr != nil {
		if tx != nil {
			tx.Rollback()
		}
		discard(conn) // never hand out a connection left with a short timeout
		return nil, nil, errors.Join(err, fmt.Errorf("restore busy timeout: %w", rerr))
	}
	if err != nil {
		c.release(conn, lazy)
		return nil, nil, err
	}
	return conn, tx, nil
}

// release returns the writer connection to its pool after a batch. After a lazy batch it
// restores synchronous=FULL first, so that every other write on it syncs again; a connection
// that cannot be restored is discarded, never handed out.
func (c *committer) release(conn *sql.Conn, lazy bool) {
	if lazy {
		if _, err := conn.ExecContext(context.Background(), `PRAGMA synchronous = FULL`); err != nil {
			discard(conn)
			return
		}
	}
	conn.Close()
}

// setBusyTimeout sets the busy timeout of conn, rounded up to the millisecond so the wait never
// ends before the deadline it stands for; zero or less means fail at once if locked.
func setBusyTimeout(conn *sql.Conn, d time.Duration) error {
	ms := max(0, (d+time.Millisecond-1)/time.Millisecond)
	_, err := conn.ExecContext(context.Background(), fmt.Sprintf(`PRAGMA busy_timeout = %d`, ms))
	return err
}

// discard closes conn's driver connection instead of returning it to the pool; the pool opens a
// new one from the DSN, with the configured busy timeout, when it needs it.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
