package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// checkpointEvery is how often the background checkpointer looks at the WAL. A checkpoint
// costs two fsyncs (the WAL, then the database file), so it runs only when checkpointBatches
// commits have gathered since the last one, or checkpointIdle ticks have passed with at least
// one: at a few calls a second, a checkpoint a second would cost more fsyncs than the calls'
// own commits, and an idle database is never synced for nothing. Under load it runs every
// tick, as a longer WAL makes each checkpoint a burst of writes that delays the commits'
// fsyncs (at 2,000 calls in flight, 256 commits between checkpoints made grants time out).
const checkpointEvery = time.Second

// checkpointBatches and checkpointIdle bound the WAL between checkpoints: at most this many
// commits (a few pages each), and at most this many ticks for the last few.
const (
	checkpointBatches = 32
	checkpointIdle    = 10
)

// walRestartFrames is the WAL length (frames of 4 KiB) past which the committer resets the WAL
// between two batches: under steady load the WAL never restarts on its own, as new frames
// always follow the checkpointed ones.
const walRestartFrames = 4096

// checkpointer moves WAL checkpoints off the commit path. By default SQLite checkpoints inside
// the COMMIT that pushes the WAL past 1000 pages: that one commit then also copies pages into
// the database file and fsyncs it, and a caller who just pressed 1 waits tens or hundreds of
// milliseconds for record_session. The writer therefore runs with wal_autocheckpoint=0, and a
// separate connection runs PASSIVE checkpoints, which never take the write lock and never
// block a commit; when the WAL grows long under steady load the committer resets it between
// two batches (a short RESTART, as the pages are already copied). Should the writer's connection ever be replaced, the new one checkpoints by
// default again: slower, never unsafe.
type checkpointer struct {
	conn   *sql.DB
	cancel context.CancelFunc
	done   chan struct{}
}

func (db *DB) startCheckpointer(ctx context.Context, abs string) error {
	if _, err := db.writer.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		return fmt.Errorf("disable auto-checkpoint: %w", formatError(err))
	}
	conn, err := sql.Open("sqlite3", db.dsn(abs, false))
	if err != nil {
		return fmt.Errorf("open checkpointer: %w", err)
	}
	conn.SetMaxOpenConns(1)
	if err := checkConn(ctx, conn, "checkpointer", db.busyTimeout); err != nil {
		conn.Close()
		return err
	}
	every := db.checkpointEvery
	if every == 0 {
		every = checkpointEvery
	}
	cctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{conn: conn, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(every)
		defer t.Stop()
		var last int64 // commits counted at the last checkpoint
		idle := 0
		for {
			select {
			case <-cctx.Done():
				return
			case <-t.C:
				n := db.batches.Load()
				if n == last {
					idle = 0
					continue
				}
				if idle++; n-last < checkpointBatches && idle < checkpointIdle {
					continue
				}
				// Errors are transient (a long reader pins old frames): the next tick retries,
				// and Checkpoint after a sweep truncates.
				var busy, log, done int
				err := conn.QueryRowContext(cctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
				if err == nil {
					last, idle = n, 0
					db.checkpoints.Add(1)
					if log > walRestartFrames {
						db.walRestart.Store(true)
					}
				}
			}
		}
	}()
	db.ckpt = c
	return nil
}

func (c *checkpointer) stop() error {
	c.cancel()
	<-c.done
	return c.conn.Close()
}
