// Command unlinkfloor is the floor a retention sweep is measured against: the least work that
// deletes a list of files durably. It reads paths (one a line, relative to -dir) from stdin,
// opens each folder once, unlinks the files by name in it, and fsyncs each folder once. No
// database, no checks: what any deletion must pay, and nothing more.
//
//	find DIR -name '*.wav' -mmin +129600 -printf '%P\n' > due; unlinkfloor -dir DIR < due
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path"
	"sort"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	dir := flag.String("dir", "", "folder the paths are relative to")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "unlinkfloor: -dir is required")
		os.Exit(2)
	}
	byDir := map[string][]string{}
	sc := bufio.NewScanner(os.Stdin)
	n := 0
	for sc.Scan() {
		if p := sc.Text(); p != "" {
			d, base := path.Split(p)
			byDir[d] = append(byDir[d], base)
			n++
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "unlinkfloor:", err)
		os.Exit(1)
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	start := time.Now()
	for _, d := range dirs {
		fd, err := syscall.Open(path.Join(*dir, d), syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "unlinkfloor:", err)
			os.Exit(1)
		}
		for _, base := range byDir[d] {
			if err := unlinkat(fd, base); err != nil {
				fmt.Fprintf(os.Stderr, "unlinkfloor: %s%s: %v\n", d, base, err)
				os.Exit(1)
			}
		}
		if err := syscall.Fsync(fd); err != nil {
			fmt.Fprintln(os.Stderr, "unlinkfloor:", err)
			os.Exit(1)
		}
		syscall.Close(fd)
	}
	took := time.Since(start)
	fmt.Printf("unlinkfloor: %d files in %d folders: %.3f s, %.1f us per file\n", n, len(dirs), took.Seconds(), float64(took.Microseconds())/float64(max(n, 1)))
}

func unlinkat(dirfd int, name string) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	_, _, e := syscall.Syscall(syscall.SYS_UNLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), 0)
	if e != 0 {
		return e
	}
	return nil
}
