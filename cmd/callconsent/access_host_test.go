package main

import (
	"fmt"
	"testing"
)

// TestBoundedCallObjects: a host read of many calls names at most maxAuditCalls of them.
func TestBoundedCallObjects(t *testing.T) {
	var uuids []string
	for i := 0; i < maxAuditCalls+5; i++ {
		uuids = append(uuids, fmt.Sprintf("call-%d", i))
	}
	objs, note := boundedCallObjects(uuids)
	if len(objs) != maxAuditCalls || note != " (the first 1000 named)" {
		t.Fatalf("%d objects, note %q", len(objs), note)
	}
	if objs, note := boundedCallObjects(uuids[:3]); len(objs) != 3 || note != "" {
		t.Fatalf("%d objects, note %q", len(objs), note)
	}
}
