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
}

// openStore opens (creating when missing) the database and the pseudonym key named in cfg.
// The database file gets mode 0600 and WAL journaling from consent/sqlite; the key file is
// created with mode 0600 by consent.LoadOrCreateKey.
func openStore(ctx context.Context, cfg *Config) (*storage, error) {
	key, err := consent.LoadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	p, err := consent.NewPseudonymizer(key)
	if err != nil {
		return nil, fmt.Errorf("pseudonym key %s: %w", cfg.KeyFile, err)
	}
	db := sqlite.NewDB(cfg.DB)
	if err := db.Open(ctx); err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.DB, err)
	}
	return &storage{DB: db, Pseudonyms: p}, nil
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
