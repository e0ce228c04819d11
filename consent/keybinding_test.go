package consent_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
)

// keyStore is an in-memory consent.KeyStore. The SQLite store has its own tests.
type keyStore struct {
	b     consent.KeyBinding
	binds int
}

func (s *keyStore) KeyBinding(context.Context) (consent.KeyBinding, error) { return s.b, nil }

func (s *keyStore) BindKey(_ context.Context, fp string) (string, error) {
	s.binds++
	if s.b.Fingerprint == "" {
		s.b.Fingerprint = fp
	}
	return s.b.Fingerprint, nil
}

// writeKey writes a key file of bytes b and returns its path and fingerprint.
func writeKey(t *testing.T, b byte) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pseudonym.key")
	key := bytes.Repeat([]byte{b}, consent.KeySize)
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatal(err)
	}
	p, _ := consent.NewPseudonymizer(key)
	return path, p.KeyFingerprint()
}

func TestOpenKey(t *testing.T) {
	ctx := context.Background()
	t.Run("CreatedForEmptyStore", func(t *testing.T) {
		s := &keyStore{}
		path := filepath.Join(t.TempDir(), "pseudonym.key")
		p, got, err := consent.OpenKey(ctx, path, s, "database x.db")
		if err != nil || got != consent.KeyCreated {
			t.Fatalf("OpenKey = %v, %v; want created", got, err)
		}
		if s.b.Fingerprint != p.KeyFingerprint() {
			t.Errorf("store fingerprint %q, want the new key's", s.b.Fingerprint)
		}
		if _, err := consent.LoadKey(path); err != nil {
			t.Errorf("key file not written: %v", err)
		}
	})
	t.Run("VerifiedAndNotRebound", func(t *testing.T) {
		path, fp := writeKey(t, 1)
		s := &keyStore{b: consent.KeyBinding{Fingerprint: fp, Calls: 3}}
		if _, got, err := consent.OpenKey(ctx, path, s, "database x.db"); err != nil || got != consent.KeyVerified || s.binds != 0 {
			t.Fatalf("OpenKey = %v, %v, %d binds; want verified without a bind", got, err, s.binds)
		}
	})
	for _, b := range []consent.KeyBinding{{}, {Calls: 5}, {Deletions: true}} {
		// A store from before fingerprints (or an empty one) takes the key that is there.
		t.Run("Adopted", func(t *testing.T) {
			path, fp := writeKey(t, 2)
			s := &keyStore{b: b}
			if _, got, err := consent.OpenKey(ctx, path, s, "database x.db"); err != nil || got != consent.KeyAdopted || s.b.Fingerprint != fp {
				t.Fatalf("%+v: OpenKey = %v, %v, stored %q; want adopted", b, got, err, s.b.Fingerprint)
			}
			// From then on another key is refused.
			other, _ := writeKey(t, 3)
			if _, _, err := consent.OpenKey(ctx, other, s, "database x.db"); consent.ErrorCode(err) != consent.EINVALID {
				t.Fatalf("other key after adoption: %v, want refused", err)
			}
		})
	}
	for name, tt := range map[string]struct {
		b    consent.KeyBinding
		what string
	}{
		"Calls":           {consent.KeyBinding{Calls: 7}, "holds 7 calls made with a key"},
		"ManyCalls":       {consent.KeyBinding{Calls: consent.KeyBindingCalls}, "holds 1000 or more calls made with a key"},
		"TombstonesOnly":  {consent.KeyBinding{Deletions: true}, "holds tombstones of deleted recordings made with a key"},
		"FingerprintOnly": {consent.KeyBinding{Fingerprint: strings.Repeat("ab", 32)}, "was made with a key (fingerprint abababababab)"},
	} {
		t.Run("ErrMissing"+name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pseudonym.key")
			s := &keyStore{b: tt.b}
			_, _, err := consent.OpenKey(ctx, path, s, "database /data/x.db")
			if consent.ErrorCode(err) != consent.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			msg := consent.ErrorMessage(err)
			for _, want := range []string{path + " is missing", "/data/x.db " + tt.what, "restore", "backup", "must be the key this database was made with"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if _, err := os.Stat(path); err == nil {
				t.Errorf("a key was created for a store in use")
			}
			if s.binds != 0 {
				t.Errorf("store rebound")
			}
		})
	}
	t.Run("ErrReplaced", func(t *testing.T) {
		path, fp := writeKey(t, 4)
		_, stored := writeKey(t, 5)
		s := &keyStore{b: consent.KeyBinding{Fingerprint: stored, Calls: 1}}
		_, _, err := consent.OpenKey(ctx, path, s, "database /data/x.db")
		msg := consent.ErrorMessage(err)
		if consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(msg, fp[:12]) || !strings.Contains(msg, stored[:12]) ||
			!strings.Contains(msg, "restore the right key file from backup to "+path) {
			t.Fatalf("err = %v; want EINVALID naming both fingerprints and the file to restore", err)
		}
	})
}
