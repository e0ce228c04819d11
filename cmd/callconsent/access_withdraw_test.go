package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
)

// TestWithdraw_AuditedOrStillDone: a withdrawal without a daemon is audited with the OS account
// and the calls it took; one whose audit log cannot be written (the audit key of a sealed log
// is gone) still withdraws, and says it is not on record (exit 4).
func TestWithdraw_AuditedOrStillDone(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	seedCalls(t, cfg)
	if err := os.MkdirAll(cfg.RecordingsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	var out, logs bytes.Buffer
	opts := withdrawOptions{Call: uuidGranted, Reason: "ticket 77", logs: &logs}
	if err := runWithdraw(ctx, cfg, opts, &out); err != nil {
		t.Fatalf("withdraw: %v\n%s", err, logs.String())
	}
	audit := auditTable(t, cfg.DB)
	if !strings.Contains(audit, hostActor().Name+" withdraw  ticket 77 ") || !strings.Contains(audit, uuidGranted) {
		t.Fatalf("withdrawal not audited:\n%s", audit)
	}

	if err := os.Remove(cfg.AuditKeyFile); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	opts.Call = uuidDeclined
	err := runWithdraw(ctx, cfg, opts, &out)
	if consent.ErrorCode(err) != consent.ECONFLICT || !strings.Contains(err.Error(), "not in the audit log") {
		t.Fatalf("withdraw without audit key: %v", err)
	}
	if !strings.Contains(logs.String(), "goes ahead") {
		t.Errorf("stderr: %s", logs.String())
	}
	db, oerr := openReadOnly(ctx, cfg)
	if oerr != nil {
		t.Fatal(oerr)
	}
	defer db.Close()
	c, ferr := db.FindCall(ctx, uuidDeclined)
	if ferr != nil || !c.Withdrawn() {
		t.Fatalf("the unaudited withdrawal did not happen: %v", ferr)
	}
}
