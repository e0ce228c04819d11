package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/callconsent/callconsent/access"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// maxPasswordBytes bounds a password read from a file or stdin: a line, not a file's worth.
const maxPasswordBytes = 1024

// exportLogin says who runs an export: --as NAME, with the password from --password-file, or
// else from the terminal without echo, or else the first line of stdin (scripts). Never from a
// flag's value, which shows in ps and the shell history.
type exportLogin struct {
	As           string
	PasswordFile string
	stdin        io.Reader
	prompt       io.Writer // where the terminal prompt goes (stderr)
	// terminal reports whether stdin is a terminal; readHidden reads a line from it without echo.
	terminal   func() bool
	readHidden func() (string, error)
}

// newExportLogin reads from the process's stdin.
func newExportLogin() exportLogin {
	fd := int(os.Stdin.Fd())
	return exportLogin{stdin: os.Stdin, terminal: func() bool { return term.IsTerminal(fd) },
		readHidden: func() (string, error) { b, err := term.ReadPassword(fd); return string(b), err }}
}

// AddFlags registers --as and --password-file.
func (o *exportLogin) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.As, "as", "", "your user `NAME` (required); the password is asked on the terminal, or read from --password-file or stdin")
	fs.StringVar(&o.PasswordFile, "password-file", "", "read your password from the first line of `FILE` (for scripts; keep it 0600)")
}

// password returns the password of o.As. stdinBusy says stdin carries something else (a caller
// number): the password must then come from a file or the terminal.
func (o *exportLogin) password(cmdName string, stdinBusy bool) (string, error) {
	switch {
	case o.PasswordFile != "":
		f, err := os.Open(o.PasswordFile)
		if err != nil {
			return "", invalidf("%s: --password-file: %s", cmdName, fileProblem(err))
		}
		defer f.Close()
		return firstLine(f, cmdName+": --password-file "+o.PasswordFile)
	case o.terminal != nil && o.terminal():
		fmt.Fprintf(o.prompt, "password for %s: ", o.As)
		pw, err := o.readHidden()
		fmt.Fprintln(o.prompt)
		if err != nil {
			return "", fmt.Errorf("%s: read password: %w", cmdName, err)
		}
		return pw, nil
	case stdinBusy:
		return "", invalidf("%s: stdin carries the caller number: give the password with --password-file FILE or run it on a terminal", cmdName)
	}
	return firstLine(o.stdin, cmdName+": password on stdin")
}

// login checks --as and the password with the access service (throttled and audited there).
func (o *exportLogin) login(ctx context.Context, svc *access.Service, cmdName string, stdinBusy bool) (access.Actor, error) {
	if o.As == "" {
		return access.Actor{}, invalidf("%s: --as NAME is required: who makes it is recorded in the audit log", cmdName)
	}
	pw, err := o.password(cmdName, stdinBusy)
	if err != nil {
		return access.Actor{}, err
	}
	return svc.Login(ctx, o.As, pw)
}

// firstLine reads the first line of r, at most maxPasswordBytes, without its line end.
func firstLine(r io.Reader, what string) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxPasswordBytes+2), maxPasswordBytes+2).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case len(line) > maxPasswordBytes:
		return "", invalidf("%s: longer than %d bytes", what, maxPasswordBytes)
	case line == "":
		return "", invalidf("%s: no password", what)
	}
	return line, nil
}
