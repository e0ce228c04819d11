package retention

import (
	"errors"
	"io/fs"

	"github.com/callconsent/callconsent/consent"
)

// Errors of a sweep, to be told apart with errors.Is (cmd maps their codes to exit codes). The
// errors returned carry details after the sentinel's message (see errorf).
var (
	ErrRecordingsDir  = consent.Errorf(consent.EINVALID, "recordings folder missing or unreadable")
	ErrClockBackwards = consent.Errorf(consent.ECONFLICT, "wall clock is before the last sweep: new deletions held back")
	ErrClockJump      = consent.Errorf(consent.ECONFLICT, "wall clock jumped ahead of the monotonic clock by more than a day: new deletions held back")
	ErrTooMany        = consent.Errorf(consent.ECONFLICT, "sweep would delete more than the allowed share of all recordings: new deletions held back")
	ErrIncomplete     = consent.Errorf(consent.ECONFLICT, "some files could not be deleted; they stay marked and every sweep retries them")
	ErrReadOnly       = consent.Errorf(consent.EINVALID, "sweeper opened read-only: dry runs only")
)

// sweepError is one or more of the errors above with their details in one message. The CLI
// prints a coded error's message alone, so the details (which file, which counts) must be part
// of it; errors.Is still finds each sentinel, and errors.As finds the detailed *consent.Error.
type sweepError struct {
	detailed *consent.Error
	causes   []error // the sentinels, or the errors joined
}

func (e *sweepError) Error() string   { return e.detailed.Error() }
func (e *sweepError) Unwrap() []error { return append([]error{e.detailed}, e.causes...) }

// errorf returns sentinel with ": " and the formatted details appended to its message.
func errorf(sentinel *consent.Error, format string, args ...any) error {
	return &sweepError{detailed: consent.Errorf(sentinel.Code, sentinel.Message+": "+format, args...), causes: []error{sentinel}}
}

// join is errors.Join for the guard and the deletion errors of one sweep. When both are coded
// and not internal, their messages are joined into one, with the guard's code: a held back sweep
// that also could not delete a file says both.
func join(guard, exec error) error {
	if guard == nil || exec == nil || consent.ErrorCode(guard) == consent.EINTERNAL || consent.ErrorCode(exec) == consent.EINTERNAL {
		return errors.Join(guard, exec)
	}
	return &sweepError{detailed: consent.Errorf(consent.ErrorCode(guard), "%s; %s", consent.ErrorMessage(guard), consent.ErrorMessage(exec)),
		causes: []error{guard, exec}}
}

// dirError is ErrRecordingsDir for the folder dir.
func dirError(dir string, err error) error {
	return errorf(ErrRecordingsDir, "%s: %v", dir, bare(err))
}

// bare drops the operation and path of a *fs.PathError: callers name the file themselves, in
// the layout's terms, and a PathError's path may be relative to some other folder.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
