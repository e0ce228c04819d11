// Package systemd_test checks the systemd unit with systemd's own tools.
package systemd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// maxExposure is the highest `systemd-analyze security` exposure the unit may have (0 is the
// most locked down, 10 the least); the README records the score.
const maxExposure = 2.0

// TestUnit runs `systemd-analyze verify` on the unit (ExecStart pointed at an executable, as
// the package installs one) and demands no complaint at all, then scores it offline with
// `systemd-analyze security`.
func TestUnit(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found (package systemd): the unit is not verified here")
	}
	unit, err := os.ReadFile("callconsent.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "NotifyAccess=main", "WatchdogSec=", "ProtectSystem=strict",
		"ReadWritePaths=/var/lib/callconsent /var/lib/freeswitch/recordings", "NoNewPrivileges=true", "PrivateTmp=true",
		"ProtectHome=true", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "CapabilityBoundingSet=\n", "UMask=0077",
		"SystemCallFilter=@system-service", "ExecStart=/usr/bin/callconsent run "} {
		if !strings.Contains(string(unit), "\n"+want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "callconsent")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	copy := filepath.Join(dir, "callconsent.service")
	if err := os.WriteFile(copy, []byte(strings.Replace(string(unit), "ExecStart=/usr/bin/callconsent ", "ExecStart="+bin+" ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", copy).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	out, err = exec.Command(sa, "security", "--offline=true", copy).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security --offline=true: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for callconsent.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	if score, _ := strconv.ParseFloat(string(m[1]), 64); score > maxExposure {
		t.Errorf("exposure %.1f, want at most %.1f:\n%s", score, maxExposure, out)
	}
	t.Logf("systemd-analyze security: exposure %s", m[1])
}
