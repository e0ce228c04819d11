// Package prometheus_test checks the alert rules with Prometheus' own promtool.
package prometheus_test

import (
	"os"
	"os/exec"
	"testing"
)

// promtool finds promtool: $CALLCONSENT_PROMTOOL (which .ci/run sets, so that there a missing
// promtool fails), else the PATH.
func promtool(t *testing.T) string {
	if p := os.Getenv("CALLCONSENT_PROMTOOL"); p != "" {
		return p
	}
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not found: the rules are not checked here. It is in Debian's prometheus package: " +
			"apt-get download prometheus && dpkg-deb -x prometheus_*.deb DIR, then CALLCONSENT_PROMTOOL=DIR/usr/bin/promtool")
	}
	return p
}

// TestAlertRules: the rules are valid (promtool check rules) and behave as their unit tests
// say (promtool test rules): the retention alert fires once the oldest recording is older than
// retention plus one sweep interval, and not before.
func TestAlertRules(t *testing.T) {
	pt := promtool(t)
	for _, args := range [][]string{{"check", "rules", "callconsent-alerts.yml"}, {"test", "rules", "callconsent-alerts.test.yml"}} {
		out, err := exec.Command(pt, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
