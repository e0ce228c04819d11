package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/callconsent/callconsent/consent"
)

// metaKeyFingerprint is the meta row holding consent.Pseudonymizer.KeyFingerprint.
const metaKeyFingerprint = "pseudonym_key_fingerprint"

// KeyBinding returns the stored key fingerprint ("" when none) and what the database holds,
// from one read snapshot.
func (db *DB) KeyBinding(ctx context.Context) (consent.KeyBinding, error) {
	var b consent.KeyBinding
	rd, err := db.read()
	if err != nil {
		return b, err
	}
	tx, err := rd.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return b, fmt.Errorf("key binding: %w", formatError(err))
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaKeyFingerprint).Scan(&b.Fingerprint)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("key fingerprint: %w", formatError(err))
	}
	// The calls are counted up to consent.KeyBindingCalls, and EXISTS stops at the first row:
	// a full count reads an index entry of every call (a second, cold, at a million calls).
	err = tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM calls LIMIT ?)),
		EXISTS (SELECT 1 FROM tombstones) OR EXISTS (SELECT 1 FROM deletion_intents)`, consent.KeyBindingCalls).Scan(&b.Calls, &b.Deletions)
	if err != nil {
		return b, fmt.Errorf("key binding counts: %w", formatError(err))
	}
	return b, nil
}

// BindKey stores fingerprint as the database's key fingerprint unless one is stored already,
// and returns the one stored afterwards, in one transaction: of two processes binding
// different keys at once, one wins and the other sees the winner's fingerprint.
func (db *DB) BindKey(ctx context.Context, fingerprint string) (string, error) {
	if fingerprint == "" {
		return "", consent.Errorf(consent.EINVALID, "key fingerprint required")
	}
	var stored string
	err := db.update(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
			metaKeyFingerprint, fingerprint); err != nil {
			return err
		}
		return tx.QueryRow(`SELECT value FROM meta WHERE key = ?`, metaKeyFingerprint).Scan(&stored)
	})
	if err != nil {
		return "", fmt.Errorf("bind key: %w", err)
	}
	return stored, nil
}
