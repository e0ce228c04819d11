package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// storage is what every command that touches data opens: the store and the pseudonymizer
// whose key belongs to it. They are opened together because a database used with the wrong
// key finds no caller, and that should fail at start, not when someone asks for withdrawal.
type storage struct {
	DB         *sqlite.DB
	Pseudonyms *consent.Pseudonymizer
	// Key says whether the key was verified against the database, created for an empty one,
	// or adopted by a database made before key fingerprints were stored.
	Key consent.KeyOutcome
}

// openStore opens (creating when missing) the database named in cfg, then its pseudonym key:
// a key is created only for an empty database, and a missing or different key is refused with
// what to restore (consent.OpenKey). The database file gets mode 0600 and WAL journaling from
// consent/sqlite; a new key file mode 0600 from consent.CreateKey.
func openStore(ctx context.Context, cfg *Config) (*storage, error) {
	db := sqlite.NewDB(cfg.DB)
	if err := db.Open(ctx); err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.DB, err)
	}
	p, outcome, err := consent.OpenKey(ctx, cfg.KeyFile, db, "database "+cfg.DB)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &storage{DB: db, Pseudonyms: p, Key: outcome}, nil
}

// Close closes the database.
func (s *storage) Close() error { return s.DB.Close() }

// closeInto closes c and keeps the first error: a failed close of a database we wrote to can
// mean a lost commit, so it must not vanish behind a nil.
func closeInto(err *error, c interface{ Close() error }) {
	if cerr := c.Close(); cerr != nil {
		*err = errors.Join(*err, cerr)
	}
}
