// Package deb_test builds the Debian package with build-deb.sh and installs it into a clean
// folder root (dpkg --root, maintainer scripts run chrootless with DPKG_ROOT).
package deb_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestDeb builds the package, installs it into an empty root, checks the files, modes and
// accounts, runs the installed binary, then purges it: the configuration goes, the database
// folder and the recordings stay.
func TestDeb(t *testing.T) {
	for _, tool := range []string{"dpkg", "dpkg-deb", "useradd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: the package test runs on Debian or Ubuntu", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("installing into a folder root with dpkg --root needs root (the files are chowned); CI runs as root")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "callconsent")
	run(t, "", "go", "build", "-o", bin, "../../cmd/callconsent") // as the other tests build it: cached
	out := run(t, "", "./build-deb.sh", "--binary", bin, "--version", "1.2.3", "--out", work)
	deb := strings.TrimSpace(out)
	if filepath.Base(deb) != "callconsent_1.2.3_"+strings.TrimSpace(run(t, "", "dpkg", "--print-architecture"))+".deb" {
		t.Fatalf("build-deb.sh printed %q", out)
	}
	if info := run(t, "", "dpkg-deb", "--info", deb); !strings.Contains(info, "Package: callconsent") || !strings.Contains(info, "Version: 1.2.3") {
		t.Errorf("control:\n%s", info)
	}

	root := newRoot(t, filepath.Join(work, "root"))
	dpkg := func(args ...string) string {
		return run(t, "", "dpkg", append([]string{"--root=" + root, "--force-script-chrootless", "--force-depends", "--log=/dev/null"}, args...)...)
	}
	dpkg("-i", deb)

	for path, want := range map[string]struct {
		mode  os.FileMode
		group string // "" root
	}{
		"usr/bin/callconsent":                                         {0o755, ""},
		"lib/systemd/system/callconsent.service":                      {0o644, ""},
		"etc/callconsent":                                             {0o750 | os.ModeDir, "callconsent"},
		"etc/callconsent/callconsent.yaml":                            {0o640, "callconsent"},
		"etc/callconsent/esl-password":                                {0o640, "callconsent"},
		"var/lib/callconsent":                                         {0o700 | os.ModeDir, "callconsent"},
		"var/lib/freeswitch/recordings":                               {0o770 | os.ModeDir | os.ModeSetgid, "callrec"},
		"usr/share/callconsent/notices/notice-nb.wav":                 {0o644, ""},
		"usr/share/callconsent/notices/notices.yaml":                  {0o644, ""},
		"usr/share/callconsent/freeswitch/dialplan-callconsent.xml":   {0o644, ""},
		"usr/share/callconsent/prometheus/callconsent-alerts.yml":     {0o644, ""},
		"usr/share/callconsent/grafana/callconsent.json":              {0o644, ""},
		"usr/share/doc/callconsent/examples/callconsent.example.yaml": {0o644, ""},
		"usr/share/man/man1/callconsent.1.gz":                         {0o644, ""},
		"usr/share/man/man1/callconsent-status.1.gz":                  {0o644, ""},
		"usr/share/bash-completion/completions/callconsent":           {0o644, ""},
		"usr/share/zsh/vendor-completions/_callconsent":               {0o644, ""},
		"usr/share/fish/vendor_completions.d/callconsent.fish":        {0o644, ""},
	} {
		fi, err := os.Lstat(filepath.Join(root, path))
		if err != nil {
			t.Errorf("not installed: %v", err)
			continue
		}
		if fi.Mode() != want.mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want.mode)
		}
		if g := groupName(t, root, fi.Sys().(*syscall.Stat_t).Gid); g != want.group && !(want.group == "" && g == "root") {
			t.Errorf("%s: group %s, want %s", path, g, want.group)
		}
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if !strings.Contains(string(passwd), "\ncallconsent:x:") || !strings.Contains(string(passwd), ":/var/lib/callconsent:/usr/sbin/nologin\n") {
		t.Errorf("no system user callconsent:\n%s", passwd)
	}
	if pw, _ := os.ReadFile(filepath.Join(root, "etc/callconsent/esl-password")); len(pw) != 48 {
		t.Errorf("esl-password has %d characters, want 48 hex", len(pw))
	}
	unit, _ := os.ReadFile(filepath.Join(root, "lib/systemd/system/callconsent.service"))
	if repo, _ := os.ReadFile("../systemd/callconsent.service"); string(unit) != string(repo) {
		t.Errorf("the installed unit is not scripts/systemd/callconsent.service")
	}
	if v := run(t, "", filepath.Join(root, "usr/bin/callconsent"), "version"); !strings.Contains(v, "callconsent") {
		t.Errorf("installed binary: version says %q", v)
	}

	// Data the daemon made, then a purge.
	for _, f := range []string{"var/lib/callconsent/callconsent.db", "var/lib/callconsent/pseudonym.key", "var/lib/freeswitch/recordings/2026/11/30/4f8c2a10-1111-4c3b-9a3e-0d5b7e9c2f11.wav"} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o700)
		if err := os.WriteFile(filepath.Join(root, f), []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dpkg("--purge", "callconsent")
	for _, gone := range []string{"usr/bin/callconsent", "etc/callconsent/callconsent.yaml", "etc/callconsent/esl-password", "lib/systemd/system/callconsent.service"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); !os.IsNotExist(err) {
			t.Errorf("%s left after purge: %v", gone, err)
		}
	}
	for _, kept := range []string{"var/lib/callconsent/callconsent.db", "var/lib/callconsent/pseudonym.key", "var/lib/freeswitch/recordings/2026/11/30/4f8c2a10-1111-4c3b-9a3e-0d5b7e9c2f11.wav"} {
		if b, err := os.ReadFile(filepath.Join(root, kept)); err != nil || string(b) != "data" {
			t.Errorf("purge touched %s: %v", kept, err)
		}
	}
}

// newRoot makes an empty root dpkg can install into: its database and the account files the
// shadow tools edit (root only).
func newRoot(t *testing.T, root string) string {
	t.Helper()
	for _, d := range []string{"etc", "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range map[string]string{
		"var/lib/dpkg/status": "", "var/lib/dpkg/available": "",
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\n",
		"etc/shadow": "root:*:19000:0:99999:7:::\n", "etc/gshadow": "root:*::\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// groupName names gid by the root's own group file, not the host's.
func groupName(t *testing.T, root string, gid uint32) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "etc/group"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 && f[2] == strconv.FormatUint(uint64(gid), 10) {
			return f[0]
		}
	}
	return strconv.FormatUint(uint64(gid), 10)
}

// run runs a command in dir ("" this folder) and returns its stdout; it fails the test with
// both outputs when the command fails.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
