package consent

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// AnonymousPseudonym is the one pseudonym of every caller without a usable number (empty,
// "anonymous", "unknown", withheld or non-numeric ids). Such calls cannot be found by number.
const AnonymousPseudonym = "anonymous"

// KeySize is the size of the pseudonymisation key in bytes.
const KeySize = 32

// Pseudonymizer turns caller numbers into keyed pseudonyms (R-PSEUDO-1): HMAC-SHA-256 of the
// normalised number. Without the key a pseudonym cannot be linked back to a number, and the key
// never enters the database, so a leaked database alone reveals no caller.
type Pseudonymizer struct {
	key []byte
}

// NewPseudonymizer returns a Pseudonymizer with the given key, which must be KeySize bytes.
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) != KeySize {
		return nil, Errorf(EINVALID, "pseudonym key must be %d bytes, got %d", KeySize, len(key))
	}
	return &Pseudonymizer{key: append([]byte(nil), key...)}, nil
}

// Pseudonym returns the pseudonym of a raw caller id number as FreeSWITCH reports it.
func (p *Pseudonymizer) Pseudonym(number string) string {
	n, ok := NormalizeNumber(number)
	if !ok {
		return AnonymousPseudonym
	}
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(n))
	return hex.EncodeToString(m.Sum(nil))
}

// keyFingerprintLabel is the message whose HMAC under the key is the key's fingerprint.
const keyFingerprintLabel = "callconsent pseudonym key fingerprint v1"

// KeyFingerprint identifies the key without revealing it: the hex HMAC-SHA-256 of a fixed
// label under the key. A store keeps it to recognise a missing or replaced key (see OpenKey).
//
// Why this and not SHA-256 of the key: HMAC is a pseudorandom function, so its output for a
// known message tells nothing about the key (finding the key from it is breaking HMAC), and the
// label keeps it apart from every other value computed with the key. The pseudonyms are HMACs
// of normalised numbers, which hold only digits and a leading "+"; the label holds letters and
// spaces, so the fingerprint can never be the pseudonym of any caller, and a stored fingerprint
// cannot be matched against the calls table. A plain hash of the key would not leak it either,
// but it would be one more function of the raw key with no domain separation.
func (p *Pseudonymizer) KeyFingerprint() string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(keyFingerprintLabel))
	return hex.EncodeToString(m.Sum(nil))
}

// NormalizeNumber brings a caller number into one canonical form so that the ways people and
// switches write it give the same pseudonym: spaces, dashes, dots and brackets are dropped and
// a leading "00" becomes "+". It reports false for ids that are not a number at all.
func NormalizeNumber(number string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(number) {
		switch {
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '[' || r == ']' || r == '\t':
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	n := b.String()
	if strings.HasPrefix(n, "00") {
		n = "+" + n[2:]
	}
	digits := strings.TrimPrefix(n, "+")
	if len(digits) == 0 || len(digits) > 32 {
		return "", false
	}
	return n, true
}

// LoadKey reads the pseudonym key from path. A missing file is an error wrapping
// fs.ErrNotExist; a key readable by group or others, or of the wrong size, is refused:
// pseudonyms are only as strong as the secrecy of this file. OpenKey decides whether a missing
// key may be created.
func LoadKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, Errorf(EINVALID, "key file %s is %s, not a file: key-file must name the file holding the key", path, fileKind(fi.Mode()))
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, Errorf(EINVALID, "key file %s has mode %04o: must not be readable by group or others (chmod 600)", path, fi.Mode().Perm())
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if len(key) != KeySize {
		return nil, Errorf(EINVALID, "key file %s holds %d bytes, want %d", path, len(key), KeySize)
	}
	return key, nil
}

// fileKind names what a path that is not a regular file is, for error messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// CreateKey writes a new key of KeySize random bytes to path with mode 0600 and returns it.
// If another process created the file first, its key is returned instead: two commands started
// together on a fresh store end up with the same key. Only OpenKey calls it, and only for a
// store that holds nothing made with an earlier key.
func CreateKey(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key folder: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process created it first: use theirs
		return LoadKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync key file: %w", err)
	}
	return key, f.Close()
}
