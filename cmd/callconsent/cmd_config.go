package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/callconsent/callconsent/recordings"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newConfigCommand(g *globalOptions) *cobra.Command {
	cmd := newGroupCommand("config", "Check the configuration; 'callconsent help config' lists every key", newConfigCheckCommand(g))
	cmd.Long = `Configuration comes from one YAML file (--config FILE, default ` + DefaultConfigPath + `).
Every key is also a flag of the same name on every command: a flag wins over the file,
which wins over the built-in default. With --data-dir DIR, db, key-file, recordings-dir,
notices-dir, control-socket and esl-password-file default to places below DIR.

Configuration keys (in the file "key: value", on the command line "--key value"):
` + configKeysUsage()
	cmd.Example = `  callconsent --retention 720h --log-level debug run
  callconsent --config ./callconsent.yaml config check`
	return cmd
}

// configKeysUsage lists every configuration key as a flag with its default: the root's
// configuration flags are hidden from each command's help, which would drown in them.
func configKeysUsage() string {
	fs := pflag.NewFlagSet("config", pflag.ContinueOnError)
	AddConfigFlags(fs)
	fs.SortFlags = false // the order of the README's table
	return fs.FlagUsages()
}

func newConfigCheckCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and the files it names",
		Long: `Load and validate the configuration, then check the files it names:
  - each notice and invalid-choice prompt exists and is a 16-bit PCM WAV file with audio
    (format shown); run refuses to start on the same problems,
  - the ESL addresses are on loopback, or allow-remote-esl says what that costs,
  - the accounts of freeswitch-users exist, or freeswitch-owner-check is off,
  - where /metrics, /healthz and /readyz listen (metrics-listen), and what off loopback costs,
  - the ESL password file is readable (the password is never printed),
  - the recordings folder exists and is not open to others; a WARN line names the dated
    folders and recordings of the last days that others could open (the daemon makes each
    finished recording 0600, but cannot change a file FreeSWITCH's account owns),
  - the pseudonym key file, the audit key file and the database, where present, have mode
    0600, and the pseudonym key is not missing beside an existing database (it must then be
    restored from backup).
Each check prints OK, WARN or FAIL. Any FAIL, or an invalid configuration, exits with 2;
WARN lines alone do not.

` + exitCodesHelp,
		Example: `  callconsent --config /etc/callconsent/callconsent.yaml config check
  callconsent --data-dir ./data --notices-dir ./notices config check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			return runConfigCheck(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
}

// check is one line of config check's report.
type check struct {
	name string
	err  error  // nil: OK (or WARN)
	info string // shown after OK
	warn string // set: WARN with this text instead of OK
}

// runConfigCheck checks the files a valid configuration names. It reads them but changes
// nothing: no database or key is created, unlike the commands that open the store.
func runConfigCheck(_ context.Context, cfg *Config, out io.Writer) error {
	src := cfg.Source
	if src == "" {
		src = "none, built-in defaults apply"
	}
	checks := []check{{name: "config", info: src}, eslAddrCheck(cfg), ownerCheckLine(cfg), metricsCheck(cfg), webCheck(cfg)}
	for _, lang := range cfg.NoticeLangs() {
		n := cfg.Notices[lang]
		checks = append(checks, wavCheck(fmt.Sprintf("notice %s %s (version %s)", lang, n.File, n.Version), n.File))
		if n.InvalidFile != "" {
			checks = append(checks, wavCheck(fmt.Sprintf("invalid-choice prompt %s %s", lang, n.InvalidFile), n.InvalidFile))
		}
	}
	checks = append(checks, minNoticeCheck(cfg),
		callLimitCheck(cfg),
		passwordCheck("esl password file "+cfg.ESLPasswordFile, cfg),
		dirCheck("recordings dir "+cfg.RecordingsDir, cfg.RecordingsDir),
		recordingModesCheck("recordings of the last days", cfg.RecordingsDir),
		keyFileCheck("pseudonym key file "+cfg.KeyFile, cfg),
		privateFileCheck("audit key file "+cfg.AuditKeyFile, cfg.AuditKeyFile),
		privateFileCheck("database "+cfg.DB, cfg.DB),
	)

	failed := 0
	for _, c := range checks {
		if c.err != nil {
			failed++
			fmt.Fprintf(out, "FAIL  %s: %s\n", c.name, errorText(c.err))
		} else if c.warn != "" {
			fmt.Fprintf(out, "WARN  %s: %s\n", c.name, c.warn)
		} else {
			fmt.Fprintf(out, "OK    %s: %s\n", c.name, c.info)
		}
	}
	if failed > 0 {
		return invalidf("config check: %d of %d checks failed", failed, len(checks))
	}
	return nil
}

func wavCheck(name, path string) check {
	w, err := playableWAV(path)
	if err != nil {
		return check{name: name, err: errors.New(fileProblem(err))}
	}
	return check{name: name, info: w.String()}
}

// minNoticeCheck: every notice must be at least min-notice long, or no key would ever count.
func minNoticeCheck(cfg *Config) check {
	c := check{name: "min-notice " + fmtDuration(cfg.MinNotice)}
	var ok []string
	for _, lang := range cfg.NoticeLangs() {
		if n := cfg.Notices[lang]; n.Err == nil {
			ok = append(ok, fmt.Sprintf("%s notice %s", lang, fmtDuration(n.Duration.Round(time.Millisecond))))
		}
	}
	switch p := cfg.minNoticeProblem(); {
	case p != "":
		c.err = errors.New(p)
	case len(ok) == 0:
		c.err = errors.New("cannot be checked: no notice can be read")
	default:
		c.info = "at most the " + strings.Join(ok, ", the ")
	}
	return c
}

// passwordCheck reads the password (never shown) and refuses a file others may read.
func passwordCheck(name string, cfg *Config) check {
	if _, err := cfg.ESLPassword(); err != nil {
		if fi, serr := os.Stat(cfg.ESLPasswordFile); serr != nil {
			err = errors.New(fileProblem(serr))
		} else if fi.IsDir() {
			err = errors.New("is a folder")
		}
		return check{name: name, err: err}
	}
	fi, err := os.Stat(cfg.ESLPasswordFile)
	if err != nil {
		return check{name: name, err: errors.New(fileProblem(err))}
	} else if fi.Mode().Perm()&0o007 != 0 {
		return check{name: name, err: fmt.Errorf("mode %04o: others can read the password (chmod o-rwx)", fi.Mode().Perm())}
	}
	return check{name: name, info: fmt.Sprintf("readable, mode %04o", fi.Mode().Perm())}
}

func dirCheck(name, path string) check {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return check{name: name, err: errors.New(fileProblem(err))}
	case !fi.IsDir():
		return check{name: name, err: errors.New("not a folder")}
	case fi.Mode().Perm()&0o007 != 0:
		// Group access may be how FreeSWITCH and callconsent share it; others never (R-SEC-5).
		return check{name: name, err: fmt.Errorf("mode %04o: others have access (chmod o-rwx)", fi.Mode().Perm())}
	}
	return check{name: name, info: fmt.Sprintf("folder, mode %04o", fi.Mode().Perm())}
}

// keyFileCheck is privateFileCheck for the pseudonym key, which is created only together with
// a new database: a key missing beside an existing database is lost and must be restored (the
// commands that open the database refuse to run without it).
func keyFileCheck(name string, cfg *Config) check {
	c := privateFileCheck(name, cfg.KeyFile)
	if _, err := os.Stat(cfg.KeyFile); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(cfg.DB); err == nil {
			c.err = fmt.Errorf("missing, but the database %s exists: restore the key it was made with from backup (a key is created only with a new database)", cfg.DB)
		} else {
			c.info = "not yet created (created with mode 0600 together with a new database)"
		}
	}
	return c
}

// privateFileCheck accepts a missing file (it is created with mode 0600 on first use) and an
// existing one only with mode 0600 or stricter.
func privateFileCheck(name, path string) check {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return check{name: name, info: "not yet created (will be created with mode 0600)"}
	case err != nil:
		return check{name: name, err: errors.New(fileProblem(err))}
	case fi.IsDir():
		return check{name: name, err: errors.New("a folder, not a file: name the file itself")}
	case !fi.Mode().IsRegular():
		return check{name: name, err: errors.New("not a regular file: name the file itself")}
	case fi.Mode().Perm()&0o077 != 0:
		return check{name: name, err: fmt.Errorf("mode %04o: must be 0600 (chmod 600)", fi.Mode().Perm())}
	}
	return check{name: name, info: fmt.Sprintf("mode %04o", fi.Mode().Perm())}
}

// How much of the recordings folder config check looks at for modes: the newest day folders,
// and at most so many entries, so that the check stays quick on a folder of 90 days.
const (
	modeScanDays    = 7
	modeScanEntries = 20000
)

// recordingModesCheck warns about the dated folders and recordings of the last days that
// others may open (R-SEC-5). The daemon makes each finished recording 0600; a file that keeps
// another mode belongs to FreeSWITCH's account, which alone may change it. Unreadable parts are
// skipped: the folder check above fails on what matters there.
func recordingModesCheck(name, dir string) check {
	open := recordings.ScanModes(dir, modeScanDays, modeScanEntries)
	switch {
	case open.Days == 0:
		return check{name: name, info: "no dated folders yet"}
	case open.Folders == 0 && open.Files == 0:
		return check{name: name, info: fmt.Sprintf("%d day folder(s), none open to others", open.Days)}
	}
	return check{name: name, warn: fmt.Sprintf("%d folder(s) and %d recording(s) give others access (e.g. %s): "+
		"chmod o-rwx them; the daemon makes each finished recording 0600, but not one FreeSWITCH's account owns: "+
		"run FreeSWITCH with UMask=0027", open.Folders, open.Files, open.Example)}
}
