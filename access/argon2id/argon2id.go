// Package argon2id implements access.Hasher with argon2id (RFC 9106) through
// github.com/alexedwards/argon2id, storing PHC strings
// ($argon2id$v=19$m=65536,t=3,p=4$salt$key) that carry their own parameters: raising Params
// later leaves old hashes verifiable with theirs.
package argon2id

import (
	"fmt"

	"github.com/alexedwards/argon2id"
	"github.com/callconsent/callconsent/access"
)

var _ access.Hasher = (*Hasher)(nil)

// DefaultParams is RFC 9106's second recommended option (§4): 64 MiB of memory, 3 passes,
// 4 lanes, 16-byte salt, 32-byte key. It costs about a quarter of a second of a core per login
// here, acceptable for a few officers and managers, expensive for a password guesser.
var DefaultParams = argon2id.Params{Memory: 64 * 1024, Iterations: 3, Parallelism: 4, SaltLength: 16, KeyLength: 32}

// Hasher hashes with Params.
type Hasher struct {
	Params argon2id.Params
}

// New returns a Hasher with DefaultParams.
func New() *Hasher { return &Hasher{Params: DefaultParams} }

// Hash returns the PHC string of password with a random salt.
func (h *Hasher) Hash(password string) (string, error) {
	p := h.Params
	s, err := argon2id.CreateHash(password, &p)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return s, nil
}

// Verify compares password with the PHC string in constant time (subtle.ConstantTimeCompare in
// the library), with the parameters stored in the string.
func (h *Hasher) Verify(password, phc string) (bool, error) {
	ok, err := argon2id.ComparePasswordAndHash(password, phc)
	if err != nil {
		return false, fmt.Errorf("verify password: stored hash unreadable: %w", err)
	}
	return ok, nil
}
