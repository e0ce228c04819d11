package sqlite

import (
	"errors"
	"fmt"
	"strings"

	"github.com/callconsent/callconsent/consent"
	"github.com/mattn/go-sqlite3"
)

// ErrLocked is returned, wrapped together with the driver's error, when another connection or
// process held the database lock for longer than the busy timeout. Nothing of the failed
// write was stored; the caller may retry. Test with errors.Is; errors.As finds the driver error.
var ErrLocked = consent.Errorf(consent.EINTERNAL, "database is locked: another connection held it longer than the busy timeout")

// formatError translates driver errors into consent errors at the edge of the package, so that
// callers decide by code and never parse SQLite's messages. SQLite's own messages name tables
// and columns but never the values, so nothing a caller entered can leak through them.
func formatError(err error) error {
	var se sqlite3.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return &lockedError{err: err, code: se.Code}
	case sqlite3.ErrConstraint:
		return constraintError(se)
	case sqlite3.ErrReadonly:
		return fmt.Errorf("database is read-only (check file permissions): %w", err)
	case sqlite3.ErrCorrupt, sqlite3.ErrNotADB:
		return fmt.Errorf("database is corrupt, restore it from a backup: %w", err)
	case sqlite3.ErrFull:
		return fmt.Errorf("disk full: %w", err)
	}
	return err
}

// lockedError says the database is locked and keeps both ErrLocked and the driver's error in
// the chain, so errors.Is(err, ErrLocked), errors.Is(err, sqlite3.ErrBusy) and errors.As with a
// sqlite3.Error all work.
type lockedError struct {
	err  error
	code sqlite3.ErrNo
}

func (e *lockedError) Error() string        { return ErrLocked.Message + " (" + e.err.Error() + ")" }
func (e *lockedError) Unwrap() []error      { return []error{ErrLocked, e.err} }
func (e *lockedError) Is(target error) bool { return target == error(e.code) }

// constraintError maps a constraint violation to the code a caller can act on: a duplicate or
// a refused state change is a conflict with what is stored; a bad value is invalid input.
func constraintError(se sqlite3.Error) error {
	msg := se.Error()
	switch se.ExtendedCode {
	case sqlite3.ErrConstraintPrimaryKey, sqlite3.ErrConstraintUnique:
		return consent.Errorf(consent.ECONFLICT, "already exists: %s", strings.TrimPrefix(msg, "UNIQUE constraint failed: "))
	case sqlite3.ErrConstraintTrigger:
		// The message is one of ours, from a RAISE in a migration.
		return consent.Errorf(consent.ECONFLICT, "%s", msg)
	case sqlite3.ErrConstraintForeignKey:
		return consent.Errorf(consent.ECONFLICT, "refers to a row that does not exist")
	case sqlite3.ErrConstraintCheck, sqlite3.ErrConstraintNotNull:
		return consent.Errorf(consent.EINVALID, "invalid value: %s", msg)
	}
	return consent.Errorf(consent.ECONFLICT, "constraint failed: %s", msg)
}
