// Command benchsweep runs one retention sweep over a data folder made by benchgen, as
// `callconsent --data-dir DIR sweep` will once that command exists, and prints the report as
// JSON with the time spent opening the store and sweeping.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/retention"
)

func main() {
	dir := flag.String("data-dir", "", "data folder made by benchgen")
	orphans := flag.Bool("orphans", false, "scan the recent folders for orphans too")
	dryRun := flag.Bool("dry-run", false, "report only")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the sweep to this file")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-data-dir required")
	}
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	t0 := time.Now()
	db := sqlite.NewDB(filepath.Join(*dir, "callconsent.db"))
	if err := db.Open(ctx); err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	sw := retention.NewSweeper(db, filepath.Join(*dir, "recordings"), retention.DefaultPolicy(), time.Now, logger)
	if err := sw.Open(ctx); err != nil {
		log.Fatal(err)
	}
	defer sw.Close()
	open := time.Since(t0)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
	}
	rep, err := sw.Sweep(ctx, retention.Options{OrphanScan: *orphans, DryRun: *dryRun})
	pprof.StopCPUProfile()
	out := struct {
		OpenSeconds  float64          `json:"open_seconds"`
		SweepSeconds float64          `json:"sweep_seconds"`
		Report       retention.Report `json:"report"`
	}{open.Seconds(), rep.Duration.Seconds(), rep}
	json.NewEncoder(os.Stdout).Encode(out)
	if err != nil {
		log.Printf("sweep: %v", err)
		os.Exit(1)
	}
}
