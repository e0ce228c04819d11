// Package consent is the domain of callconsent: calls, consent decisions and their proof,
// recordings and their lifecycle, pseudonyms, and the IVR flow that turns a caller's key press
// into a durable decision before anything is recorded. It imports no package of this project and
// no third-party package; adapters (consent/sqlite, esl, retention) implement its interfaces.
package consent

import (
	"errors"
	"fmt"
)

// Error codes used across the application. They map to CLI exit codes in cmd/.
const (
	EINVALID  = "invalid"  // bad input: an argument, a config value, an illegal transition
	ENOTFOUND = "notfound" // the thing asked for does not exist
	ECONFLICT = "conflict" // the request conflicts with the current state
	EINTERNAL = "internal" // a fault of ours or of a dependency (disk, database)
)

// Error is the one coded error type of the domain. Adapters translate driver errors into it at
// their edge so callers can decide what to do by code, never by parsing messages.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human-readable message of err's *Error, or a generic text for
// internal errors so that driver details never reach an end user unfiltered.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
