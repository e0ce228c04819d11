package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
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

// TestAuditCheck_AlarmStaysUntilRestart: once raised, the audit-chain alarm is not cleared by a
// later verification that passes (a cut tail covered up must not clear itself); only a restart
// (a new auditCheck) starts without it. A prune that refuses a tampered chain raises it.
func TestAuditCheck_AlarmStaysUntilRestart(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := openAccess(ctx, cfg, st.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &auditCheck{svc: svc, now: time.Now, log: slog.New(slog.DiscardHandler), pruneAge: time.Hour}
	c.run(ctx, true)
	if _, ok := c.Alarm(); ok || !c.verified.Load() {
		t.Fatal("a clean log raised an alarm")
	}
	c.raise("entries 8 to 10 were cut from the tail")
	c.run(ctx, false)
	if a, ok := c.Alarm(); !ok || !strings.Contains(a.Message, "cut") {
		t.Fatalf("alarm cleared by a passing verification: %+v %v", a, ok)
	}
	if _, err := svc.Append(ctx, access.Entry{Actor: "root", ActorKind: access.ActorHost, Action: "host-read"}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TRIGGER audit_log_no_update; UPDATE audit_log SET time = '2001-01-01T00:00:00Z'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	c = &auditCheck{svc: svc, now: time.Now, log: slog.New(slog.DiscardHandler), pruneAge: time.Hour}
	c.run(ctx, true)
	if a, ok := c.Alarm(); !ok || !strings.Contains(a.Message, "changed") {
		t.Fatalf("tampered log: alarm %+v %v", a, ok)
	}
	var n int
	if err := svc.Store.Audit(ctx, access.AuditFilter{}, func(access.Entry) error { n++; return nil }); err != nil || n == 0 {
		t.Fatalf("entries after the refused prune: %d %v", n, err)
	}
}
