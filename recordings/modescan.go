package recordings

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// OpenToOthers is what ScanModes found: the dated folders and recordings of the newest days
// that others (neither the owner nor the group) may open, against R-SEC-5.
type OpenToOthers struct {
	Days    int    // day folders looked at
	Folders int    // year, month and day folders among them that others may open
	Files   int    // recordings in them that others may open
	Example string // the first one found, "<YYYY/MM/DD/file> mode 0644"; "" when none
}

// ScanModes looks at the newest days day folders below dir, and at most maxEntries entries in
// them, for folders and recordings others may open: enough to tell an installation that leaves
// its recordings open, quick on a folder of 90 days. Unreadable parts are skipped.
func ScanModes(dir string, days, maxEntries int) OpenToOthers {
	var res OpenToOthers
	note := func(rel string, fi fs.FileInfo) {
		if res.Example == "" {
			res.Example = fmt.Sprintf("%s mode %04o", rel, fi.Mode().Perm())
		}
	}
	newest := newestDayFolders(dir, days)
	res.Days = len(newest)
	seen := map[string]bool{}
	scanned := 0
	for _, day := range newest {
		for _, f := range []string{day[:4], day[:7], day} { // YYYY, YYYY/MM, YYYY/MM/DD
			if seen[f] {
				continue
			}
			seen[f] = true
			if fi, err := os.Lstat(filepath.Join(dir, f)); err == nil && fi.Mode().Perm()&0o007 != 0 {
				res.Folders++
				note(f, fi)
			}
		}
		entries, _ := os.ReadDir(filepath.Join(dir, day))
		for _, e := range entries {
			if scanned++; scanned > maxEntries {
				break
			}
			fi, err := e.Info()
			if err != nil || !fi.Mode().IsRegular() || !strings.HasSuffix(e.Name(), Ext) {
				continue
			}
			if fi.Mode().Perm()&0o007 != 0 {
				res.Files++
				note(day+"/"+e.Name(), fi)
			}
		}
	}
	return res
}

// newestDayFolders returns up to n day folders below dir ("YYYY/MM/DD"), newest first.
func newestDayFolders(dir string, n int) []string {
	var out []string
	var walk func(rel string, depth int)
	walk = func(rel string, depth int) {
		entries, _ := os.ReadDir(filepath.Join(dir, rel))
		for i := len(entries) - 1; i >= 0 && len(out) < n; i-- { // ReadDir sorts by name
			e := entries[i]
			if _, ok := levels[depth].parse(e.Name()); !e.IsDir() || !ok {
				continue
			}
			if depth == len(levels)-1 {
				out = append(out, path.Join(rel, e.Name()))
			} else {
				walk(path.Join(rel, e.Name()), depth+1)
			}
		}
	}
	walk("", 0)
	return out
}
