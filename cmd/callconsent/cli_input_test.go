package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput_OneClearError runs the CLI with wrong input an operator is likely to type and
// checks the one line it gets: the flag or key, the value as given, and what to do. None may
// pass silently, leak a Go parser's text, or mean something else (production paths, "now").
func TestBadInput_OneClearError(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "conf.d"), 0o700)
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, []byte("transfer: "+strings.Repeat("a", 2<<20)+"\n"), 0o600)
	long := filepath.Join(dir, "long.yaml")
	os.WriteFile(long, []byte("transfer: "+strings.Repeat("a", 300)+"\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string // the whole first line of stderr
	}{
		{"DurationWithoutUnit", []string{"--digit-timeout", "5", "policy"},
			`callconsent: config: digit-timeout: "5" is not a duration: it needs a unit, e.g. 5s (h, m, s or ms)`},
		{"DurationInDays", []string{"--retention", "30d", "policy"},
			`callconsent: config: retention: "30d" is not a duration: there is no unit for days; use hours, e.g. 720h`},
		{"DurationWord", []string{"--min-notice", "two", "policy"},
			`callconsent: config: min-notice: "two" is not a duration (a number and a unit: h, m, s or ms, e.g. 5s)`},
		{"IntFlag", []string{"calls", "list", "--limit", "abc"},
			`callconsent: calls list: --limit: "abc" is not a whole number`},
		{"IntFlagRange", []string{"calls", "list", "--limit", "99999999999999999999"},
			`callconsent: calls list: --limit: "99999999999999999999" is out of range`},
		{"BoolFlag", []string{"sweep", "--dry-run=maybe"},
			`callconsent: sweep: --dry-run: "maybe" is not true or false`},
		{"DurationFlag", []string{"simulate", "--prompt", "100"},
			`callconsent: simulate: --prompt: "100" is not a duration: it needs a unit, e.g. 100s (h, m, s or ms)`},
		{"ConfigIsFolder", []string{"--config", filepath.Join(dir, "conf.d"), "policy"},
			`callconsent: config: ` + filepath.Join(dir, "conf.d") + ` is a folder: name the YAML file itself, e.g. --config ` + filepath.Join(dir, "conf.d", "callconsent.yaml")},
		{"ConfigIsDevice", []string{"--config", "/dev/zero", "policy"},
			`callconsent: config: /dev/zero is not a regular file: name the YAML file`},
		{"ConfigTooLarge", []string{"--config", big, "policy"},
			`callconsent: config: ` + big + ` is 2097163 bytes, more than the 1048576 a configuration may have: is it the right file?`},
		{"TransferTooLong", []string{"--config", long, "policy"},
			`callconsent: config: transfer: "` + strings.Repeat("a", 300) + `" is 300 bytes long: a transfer target (extension, dialplan, context) has at most 256`},
		{"TransferFlagHuge", []string{"--transfer", strings.Repeat("6", 10<<20), "policy"},
			`callconsent: config: transfer: "` + strings.Repeat("6", 512) + `"... is 10485760 bytes long: a transfer target (extension, dialplan, context) has at most 256`},
		{"TransferControlChar", []string{"--transfer", "6000\tXML default", "policy"},
			`callconsent: config: transfer: "6000\tXML default" holds a control character: write the target as plain text, e.g. "6000 XML default"`},
		{"EmptyDataDir", []string{"--data-dir", "", "policy"}, // policy creates nothing, even on code that took "" as unset
			`callconsent: --data-dir: "" names no folder: give a folder, or leave the flag out to use the configured paths`},
		{"AsOfZeroTime", []string{"sweep", "--dry-run", "--as-of", "0001-01-01"},
			`callconsent: sweep: --as-of: "0001-01-01" is before 1970: no call is that old; check the year`},
		{"SimulatePromptNegative", []string{"simulate", "--prompt", "-1s"},
			`callconsent: simulate: --prompt -1s: must be more than 0 and at most 1m0s`},
		{"SimulateTalkNegative", []string{"simulate", "--talk", "-1s"},
			`callconsent: simulate: --talk -1s: must be 0..10m0s`},
		{"SimulateTooManyCalls", []string{"simulate", "--calls", "2000000"},
			`callconsent: simulate: --calls 2000000: must be 1..1000000`},
		{"SimulateConcurrency", []string{"simulate", "--concurrency", "100000"},
			`callconsent: simulate: --concurrency 100000: must be 1..5000 (every call in flight holds two sockets)`},
		{"SimulateMixUnknownKind", []string{"simulate", "--mix", "consent=6,maybe=3"},
			`callconsent: simulate: --mix: "maybe=3" is not kind=weight with kind one of consent, decline, early, hangup, invalid, no-input`},
		{"SimulateMixNoWeight", []string{"simulate", "--mix", "consent=0"},
			`callconsent: simulate: --mix: weights add up to 0`},
		{"ReasonTooLong", []string{"withdraw", "--call", uuidGranted, "--reason", strings.Repeat("r", 201)},
			`callconsent: withdraw: the reason is 201 bytes long, at most 200: give a ticket id or a short note`},
		{"ReasonTwoLines", []string{"withdraw", "--call", uuidGranted, "--reason", "ticket 1\nticket 2"},
			`callconsent: withdraw: the reason must be one line of plain text (it holds a control character)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runArgs(t, dir, tc.args...)
			first, _, _ := strings.Cut(stderr, "\n")
			if code != exitUsage || first != tc.want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and first line\n%s", code, stderr, exitUsage, tc.want)
			}
		})
	}
}

// TestBadInput_KeyFileIsFolder: a key-file that names a folder is reported as such, not as
// a mode to chmod, by the commands that open the database (one that writes and creates it,
// then one that reads it) and by config check.
func TestBadInput_KeyFileIsFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "pseudonym.key"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := "callconsent: key file " + filepath.Join(dir, "pseudonym.key") + " is a folder, not a file: key-file must name the file holding the key\n"
	for _, args := range [][]string{{"sweep"}, {"calls", "list"}} {
		if code, _, stderr := runArgs(t, dir, args...); code != exitUsage || stderr != want {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, stderr, want)
		}
	}
	_, stdout, _ := runArgs(t, dir, "config", "check")
	want = "FAIL  pseudonym key file " + filepath.Join(dir, "pseudonym.key") + ": a folder, not a file: name the file itself\n"
	if !strings.Contains(stdout, want) {
		t.Errorf("config check:\n%s\nwant the line %q", stdout, want)
	}
}

// TestBadInput_DatabaseIsFolder: a db that names a folder is one clear usage error, for a query
// as for a dry run, and nothing is created in it.
func TestBadInput_DatabaseIsFolder(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "callconsent.db")
	if err := os.Mkdir(db, 0o700); err != nil {
		t.Fatal(err)
	}
	want := "callconsent: database " + db + " is a folder, not a file: db must name the database file itself\n"
	for _, args := range [][]string{{"calls", "list"}, {"calls", "show", uuidGranted}, {"sweep", "--dry-run"}} {
		if code, _, stderr := runArgs(t, dir, args...); code != exitUsage || stderr != want {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, stderr, want)
		}
	}
	if entries, _ := os.ReadDir(db); len(entries) != 0 {
		t.Errorf("created %v in the folder", entries)
	}
}

// TestTimeFlag_TableFormat: calls list's own time column is accepted by --since and --until,
// as UTC, like the other forms.
func TestTimeFlag_TableFormat(t *testing.T) {
	for v, want := range map[string]string{
		"2026-11-30 00:19:00":       "2026-11-30T00:19:00Z",
		"2026-11-30 00:19":          "2026-11-30T00:19:00Z",
		"2026-11-30T00:19:00":       "2026-11-30T00:19:00Z",
		"2026-11-30":                "2026-11-30T00:00:00Z",
		"2026-11-30T01:19:00+01:00": "2026-11-30T00:19:00Z",
	} {
		var f timeFlag
		if err := f.Set(v); err != nil || f.String() != want {
			t.Errorf("Set(%q): %v, %s; want %s", v, err, f.String(), want)
		}
	}
}
