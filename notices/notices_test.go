package notices_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/notices"
)

// The shipped audio must match SHA256SUMS: the hash goes into every consent proof, so a WAV
// regenerated without updating the sums (and the version) would make proofs ambiguous.
func TestShippedHashes(t *testing.T) {
	sums, err := os.ReadFile("SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("bad SHA256SUMS line %q", line)
		}
		data, err := os.ReadFile(strings.TrimPrefix(f[1], "*"))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f[0] {
			t.Errorf("%s: hash differs from SHA256SUMS", f[1])
		}
		n++
	}
	if n < 4 {
		t.Errorf("SHA256SUMS lists %d files", n)
	}
}

func TestInstall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "notices")
	wrote, err := notices.Install(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range notices.Languages {
		fi, err := os.Stat(filepath.Join(dir, "notice-"+lang+".wav"))
		if err != nil {
			t.Fatal(err)
		} else if fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %o", fi.Mode().Perm())
		}
	}
	// An admin's replacement is never overwritten.
	custom := filepath.Join(dir, "notice-nb.wav")
	os.WriteFile(custom, []byte("studio"), 0o644)
	again, err := notices.Install(dir)
	if err != nil || len(again) != 0 || len(wrote) == 0 {
		t.Fatalf("second install wrote %v (first %d files), err %v", again, len(wrote), err)
	}
	if b, _ := os.ReadFile(custom); string(b) != "studio" {
		t.Error("replaced notice overwritten")
	}
}
