package storetest

import (
	"context"
	"testing"

	"github.com/callconsent/callconsent/consent"
)

const (
	fingerprintA = "aaaa0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddee"
	fingerprintB = "bbbb0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddee"
)

// testKeyBinding: a store tells whether it was ever used with a key, and keeps the first
// fingerprint bound to it for good (consent.OpenKey).
func (c *contract) testKeyBinding(t *testing.T) {
	ctx := context.Background()
	binding := func(t *testing.T, s Store) consent.KeyBinding {
		t.Helper()
		b, err := s.KeyBinding(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("Empty", func(t *testing.T) {
		if b := binding(t, c.store(t)); b != (consent.KeyBinding{}) || !b.Empty() {
			t.Fatalf("new store: %+v, want empty", b)
		}
	})
	t.Run("Calls", func(t *testing.T) {
		s := c.store(t)
		mustCreateCall(t, s, pseudonym(t), Now)
		mustGrant(t, s, Now)
		if b := binding(t, s); b.Calls != 2 || b.Deletions || b.Empty() {
			t.Fatalf("binding %+v, want 2 calls and not empty", b)
		}
	})
	t.Run("BindOnce", func(t *testing.T) {
		s := c.store(t)
		if got, err := s.BindKey(ctx, fingerprintA); err != nil || got != fingerprintA {
			t.Fatalf("first bind = %q, %v", got, err)
		}
		if got, err := s.BindKey(ctx, fingerprintB); err != nil || got != fingerprintA {
			t.Fatalf("second bind = %q, %v; want the first fingerprint kept", got, err)
		}
		if b := binding(t, s); b.Fingerprint != fingerprintA || b.Empty() {
			t.Fatalf("binding %+v, want fingerprint A and not empty", b)
		}
	})
	t.Run("ErrEmptyFingerprint", func(t *testing.T) {
		_, err := c.store(t).BindKey(ctx, "")
		wantCode(t, err, consent.EINVALID)
	})
}
