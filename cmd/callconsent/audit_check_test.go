package main

import (
	"bytes"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
	"github.com/callconsent/callconsent/metrics"
)

// TestE2E_AuditChainAlarm: the daemon verifies the audit log at start and on its schedule;
// callconsent_audit_chain_verified is 1 while it verifies; an entry changed in the database is
// an audit-chain alarm in status (exit 5) and the metrics, and the gauge drops to 0.
func TestE2E_AuditChainAlarm(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	h.restart(func(d *daemon) { d.auditCheckEvery = 50 * time.Millisecond })
	h.waitFor("control connection ready", h.d.control.Ready)
	h.waitFor("the first verification", h.d.auditCheck.verified.Load)
	var out bytes.Buffer
	if err := runStatus(h.ctx, h.cfg, statusOptions{}, &out); err != nil {
		t.Fatalf("status of a sound daemon: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "callconsent_audit_chain_verified 1") {
		t.Fatalf("gauge not 1:\n%s", out.String())
	}

	// The purposes the store was seeded with are entries 1 and 2: rewrite one.
	db, err := sql.Open("sqlite3", h.cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TRIGGER audit_log_no_update; UPDATE audit_log SET reason = 'nobody approved this' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	h.waitFor("the audit-chain alarm", func() bool { _, ok := h.d.auditCheck.Alarm(); return ok })
	out.Reset()
	err = runStatus(h.ctx, h.cfg, statusOptions{}, &out)
	if exitCode(err, true) != exitAlarm || !strings.Contains(err.Error(), metrics.AlarmAuditChain) {
		t.Errorf("status: exit %d (%v), want %d naming %s", exitCode(err, true), err, exitAlarm, metrics.AlarmAuditChain)
	}
	if !strings.Contains(out.String(), "entry 1 was changed") || !strings.Contains(out.String(), "callconsent_audit_chain_verified 0") ||
		strings.Contains(out.String(), `callconsent_alarms_total{kind="audit-chain"} 0`) {
		t.Errorf("status does not show the alarm, the gauge at 0 and the alarm counted:\n%s", out.String())
	}
	if !strings.Contains(h.logs.String(), "alarm: audit log verification failed") {
		t.Error("no error in the log")
	}
}
