// Command benchgen builds a data folder for the retention benchmark: a database with n granted
// calls and complete recordings, and one empty .wav file per recording in its dated folder with
// the file's mtime set to the recording's start, so that `find -mtime +90` and the sweep see
// the same ages. A share of the recordings (-expired) started 91 to 100 days ago, the rest
// within the last 90 days. The layout is that of `callconsent --data-dir DIR`:
// DIR/callconsent.db and DIR/recordings/<YYYY>/<MM>/<DD>/<uuid>.wav. With -files=false only the
// database is made, e.g. to time the query commands on a large one.
//
// Rows are inserted directly in one transaction with synchronous=OFF: going through the store,
// four durable commits per call, would take hours for a million calls.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent/sqlite" // also registers the sqlite3 driver
	"github.com/callconsent/callconsent/recordings"
)

func main() {
	dir := flag.String("dir", "", "data folder to create (must not exist)")
	n := flag.Int("n", 1_000_000, "number of recordings")
	expired := flag.Float64("expired", 0.1, "share of recordings older than 90 days")
	files := flag.Bool("files", true, "write the recordings' files; false: the database only (to time queries)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir required")
	}
	now := time.Now().UTC()
	start := time.Now()
	recDir := filepath.Join(*dir, "recordings")
	dbPath := filepath.Join(*dir, "callconsent.db")
	if err := os.MkdirAll(recDir, 0o700); err != nil {
		log.Fatal(err)
	}
	// The store creates the schema; then it is closed and rows go in through a raw connection.
	db := sqlite.NewDB(dbPath)
	if err := db.Open(context.Background()); err != nil {
		log.Fatal(err)
	}
	// The last orphan scan is "now": the timed sweep is the regular one, not the daily scan.
	if err := db.SetSweepState(context.Background(), "last-orphan-scan", now.Format(time.RFC3339Nano)); err != nil {
		log.Fatal(err)
	}
	db.Close()

	nExpired := int(float64(*n) * *expired)
	starts := make([]time.Time, *n)
	oldStep := 9 * 24 * time.Hour / time.Duration(max(nExpired, 1))
	newStep := 89 * 24 * time.Hour / time.Duration(max(*n-nExpired, 1))
	for i := range starts {
		if i < nExpired { // 91..100 days ago, spread evenly
			starts[i] = now.Add(-91*24*time.Hour - time.Duration(i)*oldStep)
		} else { // 1 hour .. 89 days ago
			starts[i] = now.Add(-time.Hour - time.Duration(i-nExpired)*newStep)
		}
	}
	if err := insertRows(dbPath, recDir, starts); err != nil {
		log.Fatal(err)
	}
	rows := time.Since(start)
	if *files {
		if err := writeFiles(recDir, starts); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("benchgen: %d recordings (%d expired) in %s: rows %s, files %s\n",
		*n, nExpired, *dir, rows.Round(time.Millisecond), (time.Since(start) - rows).Round(time.Millisecond))
}

func uuid(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }

const timeFormat = "2006-01-02T15:04:05.000000000Z" // as consent/sqlite stores times

func insertRows(dbPath, recDir string, starts []time.Time) error {
	conn, err := sql.Open("sqlite3", "file:"+dbPath+"?_synchronous=OFF&_foreign_keys=on")
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	calls, err := tx.Prepare(`INSERT INTO calls (uuid, caller_pseudonym, language, started_at, decision,
		decided_at, digit, tries, notice_version, notice_sha256, proof_language, ended_at)
		VALUES (?, ?, 'nb', ?, 'granted', ?, '1', 1, 'bench', '00', 'nb', ?)`)
	if err != nil {
		return err
	}
	recs, err := tx.Prepare(`INSERT INTO recordings (call_uuid, path, state, started_at, ended_at, duration_ms, bytes)
		VALUES (?, ?, 'complete', ?, ?, 60000, 0)`)
	if err != nil {
		return err
	}
	for i, t := range starts {
		u, at, end := uuid(i), t.Format(timeFormat), t.Add(time.Minute).Format(timeFormat)
		if _, err := calls.Exec(u, fmt.Sprintf("%064x", i), at, at, end); err != nil {
			return err
		}
		if _, err := recs.Exec(u, recordings.Path(recDir, u, t), at, end); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// writeFiles creates the empty files with a few workers: file creation is syscall-bound, and
// two cores keep two or three in flight.
func writeFiles(recDir string, starts []time.Time) error {
	dirs := map[string]bool{}
	for i, t := range starts {
		d := filepath.Dir(recordings.Path(recDir, uuid(i), t))
		if !dirs[d] {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
			dirs[d] = true
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(starts); i += 4 {
				p := recordings.Path(recDir, uuid(i), starts[i])
				f, err := os.Create(p)
				if err == nil {
					err = f.Close()
				}
				if err == nil {
					err = os.Chtimes(p, starts[i], starts[i])
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
