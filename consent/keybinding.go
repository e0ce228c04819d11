package consent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// KeyBinding is what a store knows about the pseudonym key it is used with.
type KeyBinding struct {
	// Fingerprint is the KeyFingerprint of the key the store is bound to; "" when it has none
	// yet: a new store, or one made before the fingerprint was stored.
	Fingerprint string
	// Calls is the number of calls stored, each with a caller pseudonym made with the key,
	// counted up to KeyBindingCalls: a store may stop there, and that many means at least as
	// many. Whether there are any decides; the number only goes into messages, and counting a
	// million calls would read an index of all of them at every start and query.
	Calls int64
	// Deletions reports tombstones or pending deletions. They hold no pseudonym, but they show
	// that the store has had calls, even once retention has purged every one of them.
	Deletions bool
}

// KeyBindingCalls is how far a store counts its calls for KeyBinding.
const KeyBindingCalls = 1000

// Empty reports whether the store has never been used with a key: no fingerprint, no calls,
// no tombstones, no pending deletions. Only for an empty store does OpenKey create a key. A
// store with a fingerprint is never empty again, even when retention has purged all its calls:
// it belongs to its key for good, and a missing key there is a lost key, not a new install.
func (b KeyBinding) Empty() bool {
	return b.Fingerprint == "" && b.Calls == 0 && !b.Deletions
}

// KeyStore is the part of a store that ties it to one pseudonym key.
type KeyStore interface {
	// KeyBinding returns the stored fingerprint and what the store holds, from one snapshot.
	KeyBinding(ctx context.Context) (KeyBinding, error)
	// BindKey stores fingerprint unless the store has one already, and returns the fingerprint
	// that is stored afterwards. A stored fingerprint is never replaced.
	BindKey(ctx context.Context, fingerprint string) (string, error)
}

// KeyOutcome says what OpenKey did with the key file.
type KeyOutcome string

// The outcomes of OpenKey.
const (
	KeyVerified KeyOutcome = "verified" // the key matches the fingerprint the store holds
	KeyCreated  KeyOutcome = "created"  // a new key, for an empty store
	KeyAdopted  KeyOutcome = "adopted"  // an existing key, for a store without a fingerprint
)

// OpenKey loads the pseudonym key at path and checks that it is the key of store (R-PSEUDO-1:
// a caller stored under one key cannot be found with another, so withdrawal by number would
// silently find nothing). storeName names the store in messages, e.g. "database /x.db".
//
//   - The store has a fingerprint: the key must exist and match it, else an EINVALID error
//     says which key file to restore from backup.
//   - The store is empty (see KeyBinding.Empty): an existing key is used, a missing one is
//     created; either way its fingerprint is stored.
//   - The store is not empty but has no fingerprint (made before fingerprints were stored): a
//     missing key is refused as above; an existing key is adopted and its fingerprint stored.
//     Whether it is the key the calls were made with cannot be told after the fact; from then
//     on, it is the only key the store accepts.
func OpenKey(ctx context.Context, path string, store KeyStore, storeName string) (*Pseudonymizer, KeyOutcome, error) {
	b, err := store.KeyBinding(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("pseudonym key binding: %w", err)
	}
	outcome := KeyVerified
	key, err := LoadKey(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && b.Empty():
		if key, err = CreateKey(path); err != nil {
			return nil, "", fmt.Errorf("pseudonym key: %w", err)
		}
		outcome = KeyCreated
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", missingKey(path, storeName, b)
	case err != nil:
		return nil, "", fmt.Errorf("pseudonym key: %w", err)
	}
	p, err := NewPseudonymizer(key)
	if err != nil {
		return nil, "", err
	}
	fp := p.KeyFingerprint()
	if b.Fingerprint == "" {
		if b.Fingerprint, err = store.BindKey(ctx, fp); err != nil {
			return nil, "", fmt.Errorf("pseudonym key binding: %w", err)
		}
		if outcome == KeyVerified {
			outcome = KeyAdopted
		}
	}
	if b.Fingerprint != fp {
		return nil, "", wrongKey(path, fp, storeName, b)
	}
	return p, outcome, nil
}

// CheckKey refuses what OpenKey refuses, for a reader that promises to change nothing (sweep
// --dry-run): a missing key beside a store that is not empty, a key the store was not made
// with. It creates no key and stores no fingerprint.
func CheckKey(ctx context.Context, path string, store interface {
	KeyBinding(ctx context.Context) (KeyBinding, error)
}, storeName string) error {
	b, err := store.KeyBinding(ctx)
	if err != nil {
		return fmt.Errorf("pseudonym key binding: %w", err)
	}
	key, err := LoadKey(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && b.Empty():
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return missingKey(path, storeName, b)
	case err != nil:
		return fmt.Errorf("pseudonym key: %w", err)
	}
	p, err := NewPseudonymizer(key)
	if err != nil {
		return err
	}
	if fp := p.KeyFingerprint(); b.Fingerprint != "" && b.Fingerprint != fp {
		return wrongKey(path, fp, storeName, b)
	}
	return nil
}

func missingKey(path, storeName string, b KeyBinding) error {
	return Errorf(EINVALID, "pseudonym key %s is missing, but %s %s: restore that key file "+
		"from backup to %s (mode 0600); it must be the key this database was made with. No new key is "+
		"made: it would leave every stored caller unfindable by phone number", path, storeName, b.holds(), path)
}

func wrongKey(path, fp, storeName string, b KeyBinding) error {
	return Errorf(EINVALID, "pseudonym key %s (fingerprint %s) is not the key %s was made with "+
		"(fingerprint %s): restore the right key file from backup to %s; with any other key, withdrawal "+
		"by phone number finds none of the stored callers", path, shortPrint(fp), storeName, shortPrint(b.Fingerprint), path)
}

// holds describes what makes a store non-empty, without any personal data.
func (b KeyBinding) holds() string {
	var what []string
	if b.Calls >= KeyBindingCalls {
		what = append(what, fmt.Sprintf("%d or more calls", b.Calls))
	} else if b.Calls > 0 {
		what = append(what, fmt.Sprintf("%d calls", b.Calls))
	}
	if b.Deletions {
		what = append(what, "tombstones of deleted recordings")
	}
	s := "holds " + strings.Join(what, " and ") + " made with a key"
	if len(what) == 0 {
		s = "was made with a key"
	}
	if b.Fingerprint != "" {
		s += " (fingerprint " + shortPrint(b.Fingerprint) + ")"
	}
	return s
}

// shortPrint is the start of a fingerprint, enough to tell keys apart in a message.
func shortPrint(fp string) string { return fp[:min(len(fp), 12)] }
