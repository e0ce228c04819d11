// Command fsyncprobe measures the disk's own durable-write latency, for the benchmarks to print
// beside their figures: it appends 8 KiB to a file in the folder given and fdatasyncs it, n
// times, and prints p50, p99 and max. The consent flow's durable commit is one such append and
// sync of SQLite's WAL, so this is the floor under the digit → record_session latency.
//
//	go run ./scripts/bench/fsyncprobe -dir /var/lib/callconsent -n 200 -every 10ms
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

func main() {
	dir := flag.String("dir", ".", "folder on the disk to probe (a file is made and removed there)")
	n := flag.Int("n", 200, "samples (1..100000)")
	every := flag.Duration("every", 10*time.Millisecond, "pause between samples")
	flag.Parse()
	if *n < 1 || *n > 100000 {
		fmt.Fprintln(os.Stderr, "fsyncprobe: -n must be 1..100000")
		os.Exit(2)
	}
	if err := run(*dir, *n, *every); err != nil {
		fmt.Fprintln(os.Stderr, "fsyncprobe:", err)
		os.Exit(1)
	}
}

func run(dir string, n int, every time.Duration) error {
	f, err := os.CreateTemp(dir, ".fsyncprobe-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 8<<10)
	took := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if _, err := f.Write(buf); err != nil {
			return err
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return err
		}
		took = append(took, time.Since(start))
		time.Sleep(every)
	}
	slices.Sort(took)
	q := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) / 1000 }
	fmt.Printf("fsync probe (%s, 8 KiB append + fdatasync, %d samples): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		filepath.Clean(dir), n, q(0.5), q(0.99), q(1))
	return nil
}
