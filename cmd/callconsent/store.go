package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// storage is what every command that writes data opens: the store and the pseudonymizer
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
// consent/sqlite; a new key file mode 0600 from consent.CreateKey. It runs the integrity check
// that reads the whole file: the daemon's open, which refuses a damaged file at start.
func openStore(ctx context.Context, cfg *Config) (*storage, error) {
	return openStoreChecked(ctx, cfg, true)
}

// openCommandStore is openStore for the commands that write (sweep, withdraw, the access
// commands): without the whole-file check, which takes seconds at a million calls (0.38 s of
// a 0.39 s steady-state sweep of 200,000 recordings) and would be paid by every login. The
// daemon runs it at start and daily (database-integrity alarm), and SQLite still reports
// damage in any page a command reads.
func openCommandStore(ctx context.Context, cfg *Config) (*storage, error) {
	return openStoreChecked(ctx, cfg, false)
}

func openStoreChecked(ctx context.Context, cfg *Config, wholeFile bool) (*storage, error) {
	db := sqlite.NewDB(cfg.DB)
	db.SkipQuickCheck = !wholeFile
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

// openReadOnly opens the database named in cfg for the commands that only read it (`calls`,
// the dry runs): nothing is created, migrated or written, and the integrity check that reads
// the whole file is left to the daemon, which runs it at start and daily. The key is checked,
// not loaded or created (consent.CheckKey): a lost or wrong key is the first thing an operator
// must hear of. A missing database is ENOTFOUND, as consent/sqlite reports it; the caller says
// what that means for its command.
func openReadOnly(ctx context.Context, cfg *Config) (*sqlite.DB, error) {
	db := sqlite.NewDB(cfg.DB)
	if err := db.OpenReadOnly(ctx); consent.ErrorCode(err) == consent.ENOTFOUND {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("open database %s read-only: %w", cfg.DB, err)
	}
	if err := consent.CheckKey(ctx, cfg.KeyFile, db, "database "+cfg.DB); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
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
