package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/access"
)

// TestHostAudit_ManyCalls: a host read of more calls than one entry holds (calls list --limit 0)
// is recorded in several entries that together name every call, so a later look-up by any of
// them (a DSAR) finds the read.
func TestHostAudit_ManyCalls(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var uuids []string
	for i := 0; i < 2*maxAuditCalls+5; i++ {
		uuids = append(uuids, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
	}
	if err := hostAudit(ctx, cfg, access.Request{Action: access.ActionHostRead, Detail: "calls list"}, callObjects(uuids...), "returned 2005 calls"); err != nil {
		t.Fatal(err)
	}
	svc, err := openAccess(ctx, cfg, st.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	var reads []access.Entry
	if err := svc.Store.Audit(ctx, access.AuditFilter{Action: string(access.ActionHostRead)}, func(e access.Entry) error { reads = append(reads, e); return nil }); err != nil {
		t.Fatal(err)
	}
	named := 0
	for i, e := range reads {
		named += len(e.Objects)
		if len(e.Objects) > maxAuditCalls || !strings.Contains(e.Detail, fmt.Sprintf("part %d of 3", i+1)) {
			t.Errorf("entry %d: %d objects, detail %q", e.Seq, len(e.Objects), e.Detail)
		}
	}
	if len(reads) != 3 || named != len(uuids) {
		t.Fatalf("%d entries naming %d calls", len(reads), named)
	}
	for _, u := range []string{uuids[0], uuids[1500], uuids[len(uuids)-1]} {
		var found int
		svc.Store.Audit(ctx, access.AuditFilter{Objects: []access.Object{{Kind: access.ObjectCall, ID: u}}}, func(access.Entry) error { found++; return nil })
		if found != 1 {
			t.Errorf("call %s: %d entries", u, found)
		}
	}
	if rep, err := svc.Verify(ctx, hostActor()); err != nil || !rep.OK() {
		t.Errorf("verify: %+v %v", rep, err)
	}
}
