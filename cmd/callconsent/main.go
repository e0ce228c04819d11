// Command callconsent is the consent-to-recording sidecar for FreeSWITCH: it asks every inbound
// caller for consent, stores the decision before any recording starts, and deletes recordings
// after the retention period or on withdrawal. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/callconsent/callconsent/consent"
)

// Exit codes. They are part of the CLI's contract (scripts test them) and are mapped from error
// codes here only, never in a command.
const (
	exitOK          = 0
	exitError       = 1   // runtime or internal error
	exitUsage       = 2   // bad flags or arguments, invalid configuration (EINVALID)
	exitNotFound    = 3   // ENOTFOUND
	exitConflict    = 4   // ECONFLICT, partial failure
	exitAlarm       = 5   // status: an alarm is active
	exitInterrupted = 130 // stopped by a signal before finishing (128 + SIGINT)
)

func main() {
	ctx, stop := signalContext(context.Background(), os.Stderr, func() { os.Exit(exitInterrupted) })
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the exit code; tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globalOptions{}
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err, g.started)
	fmt.Fprintf(stderr, "callconsent: %s\n", errorText(err))
	if code == exitUsage && !g.started {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// exitCode maps an error to the exit code. Errors raised before any command ran (unknown
// command or flag, wrong number of arguments) come from cobra uncoded and are usage errors.
func exitCode(err error, started bool) int {
	switch {
	case err == nil:
		return exitOK
	case !started:
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, new(*alarmError)):
		return exitAlarm
	}
	switch consent.ErrorCode(err) {
	case consent.EINVALID:
		return exitUsage
	case consent.ENOTFOUND:
		return exitNotFound
	case consent.ECONFLICT:
		return exitConflict
	}
	return exitError
}

// errorText is what the operator reads. A coded error's message is written to stand alone;
// anything else is internal and shown with its full wrapped chain, which in this codebase never
// holds personal data, because "internal error" alone helps nobody at 3 a.m.
func errorText(err error) string {
	var e *consent.Error
	if errors.As(err, &e) && e.Code != consent.EINTERNAL {
		return e.Message
	}
	return err.Error()
}

// signalContext returns a context cancelled by the first SIGINT or SIGTERM, so that a command
// stops cleanly (the daemon finishes its calls' bookkeeping); a second signal calls forceExit
// at once, for when a clean stop hangs. stop releases the signal handler.
func signalContext(parent context.Context, stderr io.Writer, forceExit func()) (ctx context.Context, stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	go watchSignals(sigs, done, cancel, stderr, forceExit)
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// watchSignals is signalContext's loop, apart so tests can feed it signals.
func watchSignals(sigs <-chan os.Signal, done <-chan struct{}, cancel func(), stderr io.Writer, forceExit func()) {
	select {
	case sig := <-sigs:
		fmt.Fprintf(stderr, "callconsent: %v: stopping; send it again to exit at once\n", sig)
		cancel()
	case <-done:
		return
	}
	select {
	case <-sigs:
		fmt.Fprintln(stderr, "callconsent: second signal: exiting now")
		forceExit()
	case <-done:
	}
}
