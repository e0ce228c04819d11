package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/spf13/cobra"
)

// runArgs runs the CLI in-process with a private config file and data folder.
func runArgs(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cfgFile := filepath.Join(dir, "callconsent.yaml")
	if _, err := os.Stat(cfgFile); err != nil {
		os.WriteFile(cfgFile, nil, 0o600)
	}
	args = append([]string{"--config", cfgFile, "--data-dir", dir}, args...)
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRun_ExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"ListOK", []string{"calls", "list", "--output", "json"}, exitOK, ""},
		{"Help", []string{"--help"}, exitOK, ""},
		{"Version", []string{"version"}, exitOK, ""},
		{"GroupHelp", []string{"calls"}, exitOK, ""},
		{"BadFlag", []string{"calls", "list", "--no-such-flag"}, exitUsage, "callconsent: calls list: unknown flag: --no-such-flag"},
		{"BadOutput", []string{"policy", "--output", "yaml"}, exitUsage, `callconsent: policy: --output: "yaml" is not an output format: use table or json`},
		{"BadTimeFlag", []string{"calls", "list", "--since", "yesterday"}, exitUsage, `callconsent: calls list: --since: "yesterday" is not a time`},
		{"BadDecision", []string{"calls", "list", "--decision", "yes"}, exitUsage, `unknown decision "yes"`},
		{"UnknownCommand", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"UnknownSubcommand", []string{"calls", "frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"MissingArg", []string{"calls", "show"}, exitUsage, "want 1 argument(s): UUID"},
		{"InvalidUUID", []string{"calls", "show", "not-a-uuid"}, exitUsage, `"not-a-uuid" is not a call UUID`},
		{"NotFound", []string{"calls", "show", uuidGranted}, exitNotFound, "callconsent: call " + uuidGranted + " not found"},
		{"BadConfigFlag", []string{"--retention", "90d", "policy"}, exitUsage, `callconsent: config: retention: "90d" is not a duration`},
		{"MissingExplicitConfig", []string{"--config", filepath.Join(dir, "absent.yaml"), "policy"}, exitUsage, "absent.yaml"},
		{"ConfigCheckFails", []string{"config", "check"}, exitUsage, "checks failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runArgs(t, dir, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

// TestCommandHelp keeps the help texts complete as commands are added: every runnable command
// states the exit codes and validates its arguments, so a stray argument is a usage error.
func TestCommandHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.HasParent() && !c.HasSubCommands() {
			if !strings.Contains(c.Long, "Exit codes:") {
				t.Errorf("%s: help lacks the exit codes", c.CommandPath())
			}
			if c.Args == nil {
				t.Errorf("%s: no Args validator", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand(&globalOptions{}))
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{nil, exitOK},
		{errors.New("disk on fire"), exitError},
		{consent.Errorf(consent.EINTERNAL, "x"), exitError},
		{consent.Errorf(consent.EINVALID, "x"), exitUsage},
		{consent.Errorf(consent.ENOTFOUND, "x"), exitNotFound},
		{consent.Errorf(consent.ECONFLICT, "x"), exitConflict},
		{errors.Join(errors.New("sweep"), consent.Errorf(consent.ECONFLICT, "2 of 5 deletions failed")), exitConflict},
		{context.Canceled, exitInterrupted},
		{fmt.Errorf("status: %w", &alarmError{"1 retention alarm(s) active: stuck-files"}), exitAlarm},
	} {
		if got := exitCode(tc.err, true); got != tc.code {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
	if got := errorText(errors.Join(errors.New("open db"), errors.New("disk I/O error"))); !strings.Contains(got, "disk I/O error") {
		t.Errorf("internal error text %q hides the cause", got)
	}
}

func TestWatchSignals(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	forced := make(chan struct{})
	var stderr bytes.Buffer
	go watchSignals(sigs, done, cancel, &stderr, func() { close(forced) })

	sigs <- syscall.SIGTERM
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("first signal did not cancel the context")
	}
	select {
	case <-forced:
		t.Fatal("first signal forced the exit")
	default:
	}
	sigs <- syscall.SIGINT
	select {
	case <-forced:
	case <-time.After(5 * time.Second):
		t.Fatal("second signal did not force the exit")
	}
	close(done)
}

// TestSignalContext sends real signals to the test process: the handler must be installed
// for both SIGTERM (systemd's stop) and SIGINT (Ctrl-C).
func TestSignalContext(t *testing.T) {
	forced := make(chan struct{})
	var stderr bytes.Buffer
	ctx, stop := signalContext(context.Background(), &stderr, func() { close(forced) })
	defer stop()

	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-forced:
	case <-time.After(5 * time.Second):
		t.Fatal("second signal (SIGINT) did not force the exit")
	}
	if !strings.Contains(stderr.String(), "send it again to exit at once") {
		t.Errorf("stderr %q does not tell the operator about the second signal", stderr.String())
	}
}

// TestBinary builds callconsent and runs it as a real process, as an operator or a script would.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "callconsent")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet: the CLI creates it
	cfgFile := filepath.Join(t.TempDir(), "callconsent.yaml")
	os.WriteFile(cfgFile, []byte("log-level: info\n"), 0o600)
	callconsent := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, append([]string{"--config", cfgFile, "--data-dir", dir}, args...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
	}

	// A query on a folder where nothing was stored yet: no calls, and nothing created.
	code, out, stderr := callconsent("calls", "list", "--output", "json")
	if code != 0 || out != "[]\n" || !strings.Contains(stderr, "no database at") {
		t.Fatalf("calls list: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("calls list on a fresh folder created %s (%v)", dir, err)
	}

	if code, _, stderr := callconsent("calls", "list", "--bogus"); code != 2 || !strings.HasPrefix(stderr, "callconsent: ") {
		t.Errorf("bad flag: exit %d, stderr %q; want 2", code, stderr)
	}
	if code, _, stderr := callconsent("calls", "show", uuidGranted); code != 3 || !strings.Contains(stderr, "not found") {
		t.Errorf("unknown uuid: exit %d, stderr %q; want 3", code, stderr)
	}
	if code, out, _ := callconsent("--help"); code != 0 || !strings.Contains(out, "Exit codes:") {
		t.Errorf("--help: exit %d, output lacks the exit codes:\n%s", code, out)
	}

	// SIGTERM is how systemd stops the daemon: a clean stop, exit 0 (README, Exit codes).
	run := exec.Command(bin, "--config", cfgFile, "--data-dir", dir, "--esl-listen", freePort(t), "--freeswitch", freePort(t), "run")
	var runErr bytes.Buffer
	run.Stderr = &runErr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	// Up means answering status (4: not connected to FreeSWITCH, there is none): the control
	// socket alone exists before the database is open.
	waitUntil(t, "the daemon's status", func() bool {
		code, _, _ := callconsent("--config", cfgFile, "--data-dir", dir, "status")
		return code == 0 || code == 4 || code == 5
	})
	run.Process.Signal(syscall.SIGTERM)
	if err := run.Wait(); err != nil || !strings.Contains(runErr.String(), "terminated: stopping") {
		t.Errorf("run stopped by SIGTERM: %v, want exit 0:\n%s", err, runErr.String())
	}

	// The daemon created the database: private, in WAL mode.
	db := filepath.Join(dir, "callconsent.db")
	fi, err := os.Stat(db)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database %s: %v, mode %v; want mode 0600", db, err, fi.Mode())
	}
	// Bytes 18 and 19 of the SQLite header are the file format write/read versions: 2 = WAL.
	hdr := make([]byte, 20)
	f, err := os.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(hdr, 0); err != nil {
		t.Fatal(err)
	}
	if string(hdr[:16]) != "SQLite format 3\x00" || hdr[18] != 2 || hdr[19] != 2 {
		t.Errorf("header %q: want a SQLite file in WAL mode (bytes 18,19 = 2)", hdr)
	}
}

// TestHelp_ConfigFlagsGrouped: a command's help shows its own flags and the two global ones,
// not one flag per configuration key; those are listed, all of them, by 'help config'.
func TestHelp_ConfigFlagsGrouped(t *testing.T) {
	dir := t.TempDir()
	_, help, _ := runArgs(t, dir, "withdraw", "--help")
	for _, want := range []string{"--call UUID", "--reason string", "--config file", "--data-dir folder", "All keys, their defaults and meaning: callconsent help config"} {
		if !strings.Contains(help, want) {
			t.Errorf("withdraw --help lacks %q:\n%s", want, help)
		}
	}
	for _, s := range settings {
		if strings.Contains(help, "\n      --"+s.key+" ") {
			t.Errorf("withdraw --help lists the configuration flag --%s:\n%s", s.key, help)
		}
	}
	if n := strings.Count(help, "\n      --"); n > 8 {
		t.Errorf("withdraw --help lists %d long flags, want withdraw's own and --config, --data-dir:\n%s", n, help)
	}
	_, keys, _ := runArgs(t, dir, "help", "config")
	for _, s := range settings {
		if !strings.Contains(keys, "--"+s.key+" ") {
			t.Errorf("help config lacks --%s:\n%s", s.key, keys)
		}
	}
	// Hidden from help, the flags still work.
	if code, _, stderr := runArgs(t, dir, "--retention", "720h", "policy"); code != exitOK {
		t.Errorf("--retention 720h policy: exit %d: %s", code, stderr)
	}
}
