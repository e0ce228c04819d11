package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line in-process and returns the exit code, stdout and stderr.
func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "__start_callconsent",
		"zsh":  "#compdef callconsent",
		"fish": "complete -c callconsent",
	} {
		code, out, stderr := runCLI("completion", shell)
		if code != exitOK || !strings.Contains(out, want) || stderr != "" {
			t.Errorf("completion %s: exit %d, stderr %q, script lacks %q", shell, code, stderr, want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"completion", "tcsh"}, `callconsent: completion: "tcsh" is not a shell it writes completion for: use bash, zsh or fish`},
		{[]string{"completion"}, "callconsent: completion: want 1 argument: the shell (bash, zsh or fish), got 0"},
	} {
		code, out, stderr := runCLI(tc.args...)
		if code != exitUsage || out != "" || !strings.HasPrefix(stderr, tc.want+"\n") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, stderr, tc.want)
		}
	}
}

// TestMan: one page per command of the tree, in roff, dated by SOURCE_DATE_EPOCH so that two
// builds of the package are the same.
func TestMan(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1798761600") // 2027-01-01
	dirs := []string{t.TempDir(), t.TempDir()}
	for _, dir := range dirs {
		if code, _, stderr := runCLI("man", "--dir", dir); code != exitOK {
			t.Fatalf("man: exit %d: %s", code, stderr)
		}
	}
	root := newRootCommand(&globalOptions{})
	var want []string
	for _, c := range append(root.Commands(), root) {
		want = append(want, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
		for _, sub := range c.Commands() {
			want = append(want, strings.ReplaceAll(sub.CommandPath(), " ", "-")+".1")
		}
	}
	for _, name := range want {
		if strings.HasPrefix(name, "callconsent-help") {
			continue
		}
		a, err := os.ReadFile(filepath.Join(dirs[0], name))
		if err != nil {
			t.Errorf("no page %s: %v", name, err)
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dirs[1], name))
		if !bytes.HasPrefix(a, []byte(".nh\n"+`.TH "CALLCONSENT" "1" "Jan 2027" "callconsent" "callconsent manual"`)) || !bytes.Equal(a, b) {
			t.Errorf("%s: not a dated roff page, or not the same twice:\n%.200s", name, a)
		}
	}
	if code, _, stderr := runCLI("man"); code != exitUsage || !strings.Contains(stderr, "man: --dir is required") {
		t.Errorf("man without --dir: exit %d, %q", code, stderr)
	}
}
