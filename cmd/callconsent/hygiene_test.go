package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxTrackedFile is the largest file the repository may hold: the shipped notices are about
// 1.3 MB; a build output is ten times that.
const maxTrackedFile = 4 << 20

// TestRepositoryHoldsNoBinaries: a built callconsent (13 MB) was committed once beside its
// sources. No tracked file may be an executable (ELF) or larger than maxTrackedFile.
func TestRepositoryHoldsNoBinaries(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git: ", err)
	}
	top, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not a git checkout: ", err)
	}
	root := strings.TrimSpace(string(top))
	list, err := exec.Command(git, "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		path := filepath.Join(root, name)
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the working tree, or a link
		}
		if fi.Size() > maxTrackedFile {
			t.Errorf("%s is tracked and %d bytes long (at most %d): a build output? git rm --cached it", name, fi.Size(), maxTrackedFile)
		}
		if isELF(t, path) {
			t.Errorf("%s is a tracked executable: git rm --cached it and list it in .gitignore", name)
		}
	}
}

// isELF reports whether the file at path starts with the ELF magic number.
func isELF(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil {
		return false
	}
	return bytes.Equal(magic, []byte("\x7fELF"))
}

// TestBinaryDoesNotImportTesting: production code must not link the testing package (its
// flags, its hooks); failpoints live behind the failpoints build tag instead.
func TestBinaryDoesNotImportTesting(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") {
			t.Errorf("callconsent imports %s; see which package pulls it in with: go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./cmd/callconsent | grep testing", pkg)
		}
	}
}
