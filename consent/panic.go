package consent

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// PanicError is a panic that a background loop recovered from: the loop logs it, counts it as
// an alarm and goes on with its next item (a call, a row, a request, a sweep). One bad item, a
// crafted file say, must not stop the daemon, and much less every minute after each restart.
type PanicError struct {
	Value any    // what was passed to panic
	Stack []byte // the goroutine's stack where it panicked
}

// Error describes the panic without the panic value itself unless it is a runtime error (an
// index out of range, a division by zero): other values are built by code that may have had a
// caller's number at hand, and errors end up in logs.
func (e *PanicError) Error() string {
	if re, ok := e.Value.(runtime.Error); ok {
		return "panic: " + re.Error()
	}
	return fmt.Sprintf("panic with a value of type %T (not shown: it may hold call data)", e.Value)
}

// CatchPanic runs fn and returns a panic in it as a *PanicError, or fn's own error. A panic
// with a *PanicError, one caught in another goroutine and raised again, is returned as it is,
// with the stack where it began.
func CatchPanic(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if pe, ok := v.(*PanicError); ok {
				err = pe
				return
			}
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}
