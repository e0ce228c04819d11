package consent_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
)

func TestNormalizeNumber(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"+4791234567", "+4791234567", true},
		{"+47 912 34 567", "+4791234567", true},
		{"0047-91234567", "+4791234567", true},
		{"0047.912.34.567", "+4791234567", true},
		{"(+47) 912-34-567", "+4791234567", true},
		{"91234567", "91234567", true},
		{" 6000 ", "6000", true},
		{"", "", false},
		{"anonymous", "", false},
		{"unknown", "", false},
		{"Anonymous", "", false},
		{"sip:123@example.com", "", false},
		{"12+34", "", false},
		{"+", "", false},
		{"00", "", false},
		{"123456789012345678901234567890123", "", false},
		{"٣٤٥", "", false}, // non-ASCII digits are not a dialable number here
	} {
		got, ok := consent.NormalizeNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeNumber(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPseudonymizer(t *testing.T) {
	p, err := consent.NewPseudonymizer(bytes.Repeat([]byte{7}, consent.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Pseudonym("+47 912 34 567")
	for _, n := range []string{"0047-91234567", "+4791234567"} {
		if got := p.Pseudonym(n); got != a {
			t.Errorf("Pseudonym(%q) = %s, want %s", n, got, a)
		}
	}
	if len(a) != 64 || a == "+4791234567" {
		t.Errorf("pseudonym %q is not a hex HMAC", a)
	}
	if p.Pseudonym("+4798765432") == a {
		t.Error("different numbers share a pseudonym")
	}
	for _, n := range []string{"", "anonymous", "unknown", "abc"} {
		if got := p.Pseudonym(n); got != consent.AnonymousPseudonym {
			t.Errorf("Pseudonym(%q) = %q, want anonymous", n, got)
		}
	}
	q, _ := consent.NewPseudonymizer(bytes.Repeat([]byte{8}, consent.KeySize))
	if q.Pseudonym("+4791234567") == a {
		t.Error("pseudonym does not depend on the key")
	}
	if _, err := consent.NewPseudonymizer([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}

func TestKeyFile(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sub", "pseudonym.key")
		k1, err := consent.CreateKey(path)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("key mode %o, want 600", fi.Mode().Perm())
		}
		k2, err := consent.LoadKey(path)
		if err != nil || !bytes.Equal(k1, k2) {
			t.Fatalf("reload gave a different key (err=%v)", err)
		}
		// A second CreateKey (another process that lost the race) gets the same key.
		if k3, err := consent.CreateKey(path); err != nil || !bytes.Equal(k1, k3) {
			t.Fatalf("CreateKey of an existing file replaced the key (err=%v)", err)
		}
	})
	t.Run("ErrMissing", func(t *testing.T) {
		if _, err := consent.LoadKey(filepath.Join(t.TempDir(), "k")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("got %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("ErrWorldReadable", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k")
		if err := os.WriteFile(path, make([]byte, consent.KeySize), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o644)
		if _, err := consent.LoadKey(path); consent.ErrorCode(err) != consent.EINVALID {
			t.Errorf("got %v, want invalid", err)
		}
	})
	t.Run("ErrWrongSize", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k")
		if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := consent.LoadKey(path); consent.ErrorCode(err) != consent.EINVALID {
			t.Errorf("got %v, want invalid", err)
		}
	})
}

func TestKeyFingerprint(t *testing.T) {
	key := bytes.Repeat([]byte{7}, consent.KeySize)
	p, _ := consent.NewPseudonymizer(key)
	q, _ := consent.NewPseudonymizer(bytes.Repeat([]byte{8}, consent.KeySize))
	fp := p.KeyFingerprint()
	if len(fp) != 64 || fp != p.KeyFingerprint() || fp == q.KeyFingerprint() {
		t.Fatalf("fingerprints %s / %s: want 64 hex digits, stable, different per key", fp, q.KeyFingerprint())
	}
	// Nothing of the key in it: not the key, not its plain hash.
	if sum := sha256.Sum256(key); strings.Contains(fp, hex.EncodeToString(key)) || fp == hex.EncodeToString(sum[:]) {
		t.Errorf("fingerprint %s shows the key or its hash", fp)
	}
}
