package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// accessHelp is the part of every access command's help that says who is acting.
const accessHelp = `Who is acting: --as NAME logs in as that tool user. The password is read from
the terminal without echo, or from --password-file FILE (first line; the file must not be
readable by group or others), or else from the first line of stdin. It is never taken
from a flag value (it would be in the shell history and in ps). A failed login is one
line, the same whatever was wrong, and is throttled: repeated failures wait longer and
the tenth locks the account for an hour (a security officer can unlock it).`

// identityOptions are the flags that say who acts.
type identityOptions struct {
	As           string
	PasswordFile string

	// secrets reads passwords: the terminal without echo, or lines of stdin.
	secrets *secretReader
}

// AddFlags registers --as and --password-file.
func (o *identityOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.As, "as", "", "act as this tool `user` (password from the terminal, --password-file or stdin)")
	fs.StringVar(&o.PasswordFile, "password-file", "", "read the --as user's password from the first line of `file` (mode 0600)")
}

// secretReader reads secrets one per line: from the terminal without echo when stdin is one,
// else from stdin's lines in order (the login password first, then a new password).
type secretReader struct {
	in       *bufio.Reader
	fd       int
	terminal bool
	prompts  io.Writer
}

// newSecretReader reads from os.Stdin, prompting on prompts when it is a terminal.
func newSecretReader(prompts io.Writer) *secretReader {
	return &secretReader{in: bufio.NewReaderSize(os.Stdin, 4096), fd: int(os.Stdin.Fd()), terminal: term.IsTerminal(int(os.Stdin.Fd())), prompts: prompts}
}

// maxSecretLine bounds a password line read from stdin or a file.
const maxSecretLine = access.MaxPasswordLen + 2

// read returns one secret; what names it in errors and the prompt.
func (r *secretReader) read(what string) (string, error) {
	if r.terminal {
		fmt.Fprintf(r.prompts, "%s: ", what)
		b, err := term.ReadPassword(r.fd)
		fmt.Fprintln(r.prompts)
		if err != nil {
			return "", fmt.Errorf("read %s from the terminal: %w", what, err)
		}
		return string(b), nil
	}
	line, err := readLine(r.in, maxSecretLine)
	if err != nil {
		return "", consent.Errorf(consent.EINVALID, "%s: expected on a line of stdin (or use the terminal): %v", what, err)
	}
	return line, nil
}

// readNew reads a new password; on a terminal it is asked twice.
func (r *secretReader) readNew(what string) (string, error) {
	pw, err := r.read(what)
	if err != nil || !r.terminal {
		return pw, err
	}
	again, err := r.read(what + " (again)")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", consent.Errorf(consent.EINVALID, "the two passwords differ: nothing changed")
	}
	return pw, nil
}

// readLine reads one line of at most max bytes, without its line end.
func readLine(r *bufio.Reader, max int) (string, error) {
	var b strings.Builder
	for {
		c, err := r.ReadByte()
		if err == io.EOF && b.Len() > 0 {
			break
		} else if err == io.EOF {
			return "", fmt.Errorf("no line")
		} else if err != nil {
			return "", err
		}
		if c == '\n' {
			break
		}
		if b.Len() >= max {
			return "", fmt.Errorf("line longer than %d bytes", max)
		}
		b.WriteByte(c)
	}
	return strings.TrimSuffix(b.String(), "\r"), nil
}

// readSecretFile returns the first line of a password file, refusing one others can read.
func readSecretFile(flag, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", consent.Errorf(consent.EINVALID, "%s: %v", flag, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", consent.Errorf(consent.EINVALID, "%s %s is not a regular file", flag, path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", consent.Errorf(consent.EINVALID, "%s %s has mode %04o: a password file must not be readable by group or others (chmod 600)", flag, path, fi.Mode().Perm())
	}
	line, err := readLine(bufio.NewReader(io.LimitReader(f, maxSecretLine+2)), maxSecretLine)
	if err != nil {
		return "", consent.Errorf(consent.EINVALID, "%s %s: %v", flag, path, err)
	}
	return line, nil
}

// login authenticates --as; without --as it is a usage error naming what to add.
func (o *identityOptions) login(ctx context.Context, svc *access.Service, what string) (access.Actor, error) {
	if o.As == "" {
		return access.Actor{}, invalidf("%s needs a tool user: add --as NAME", what)
	}
	var pw string
	var err error
	if o.PasswordFile != "" {
		pw, err = readSecretFile("--password-file", o.PasswordFile)
	} else {
		pw, err = o.secrets.read("password of " + o.As)
	}
	if err != nil {
		return access.Actor{}, err
	}
	return svc.Login(ctx, o.As, pw)
}

// accessEnv is an opened store with its access service, for the access commands.
type accessEnv struct {
	st  *storage
	svc *access.Service
}

// openAccessEnv opens (creating when missing) the database and the access service.
func openAccessEnv(ctx context.Context, cfg *Config) (*accessEnv, error) {
	st, err := openCommandStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	svc, err := openAccess(ctx, cfg, st.DB, nil)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &accessEnv{st: st, svc: svc}, nil
}

// Close closes the database.
func (e *accessEnv) Close() error { return e.st.Close() }

// asTool is the RunE of a command that acts as a tool user (--as): it loads the configuration,
// readies id's password reader on the command's stderr, and runs run.
func asTool(g *globalOptions, id *identityOptions, run func(ctx context.Context, cfg *Config, args []string, out io.Writer) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		cfg, err := g.Config(cmd)
		if err != nil {
			return err
		}
		id.secrets = newSecretReader(cmd.ErrOrStderr())
		return run(cmd.Context(), cfg, args, cmd.OutOrStdout())
	}
}
