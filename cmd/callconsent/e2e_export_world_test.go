package main

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	asqlite "github.com/callconsent/callconsent/access/sqlite"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/notices"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/recordings/recordingstest"
)

// exportWorld seeds a data folder for the exports through the real store and access service: a
// caller with a granted, a declined, a retention-deleted and a withdrawn call, another caller's
// granted call, a security officer (anne), a line manager with a training grant (kari) and one
// without (ola).
func exportWorld(t *testing.T, dir string) {
	ctx := context.Background()
	cfg := testConfigDir(t, dir)
	if _, err := notices.Install(cfg.NoticesDir); err != nil {
		t.Fatal(err)
	}
	cfg = testConfigDir(t, dir) // again, now that the notices can be hashed
	os.MkdirAll(cfg.RecordingsDir, 0o700)
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	me, them := st.Pseudonyms.Pseudonym(dsarNumber), st.Pseudonyms.Pseudonym(otherNumber)
	for i, c := range []struct {
		uuid, caller string
		d            consent.Decision
	}{
		{uuidMine, me, consent.DecisionGranted}, {uuidMineNo, me, consent.DecisionDeclined},
		{uuidMineGone, me, consent.DecisionGranted}, {uuidMineWd, me, consent.DecisionGranted}, {uuidTheirs, them, consent.DecisionGranted},
	} {
		start := time.Now().UTC().Add(-time.Duration(10-i) * time.Hour).Truncate(time.Second)
		must(st.DB.CreateCall(ctx, &consent.Call{UUID: c.uuid, CallerPseudonym: c.caller, Language: "nb", StartedAt: start}))
		proof := &consent.Proof{DecidedAt: start.Add(20 * time.Second), Digit: "2", Tries: 1, NoticeVersion: cfg.Notices["nb"].Version,
			NoticeSHA256: cfg.Notices["nb"].SHA256, Language: "nb", HeardMS: 9000}
		if c.d == consent.DecisionDeclined {
			must(st.DB.DecideCall(ctx, c.uuid, c.d, proof))
			continue
		}
		proof.Digit = "1"
		path := recordings.Path(cfg.RecordingsDir, c.uuid, start)
		must(st.DB.Grant(ctx, c.uuid, proof, &consent.Recording{CallUUID: c.uuid, Path: path, StartedAt: start.Add(21 * time.Second)}))
		os.MkdirAll(filepath.Dir(path), 0o700)
		recordingstest.WriteWAV(t, path, 2, 64000, -1)
		must(st.DB.UpdateRecording(ctx, c.uuid, consent.RecordingRecording, consent.RecordingUpdate{}))
		must(st.DB.UpdateRecording(ctx, c.uuid, consent.RecordingComplete, consent.RecordingUpdate{EndedAt: start.Add(3 * time.Minute), DurationMS: 2000, Bytes: 64044}))
		if c.uuid == uuidMineGone {
			ts := []consent.Tombstone{{CallUUID: c.uuid, Path: path, Reason: consent.ReasonRetention, Bytes: 64044}}
			_, err := st.DB.MarkDeleting(ctx, ts)
			must(err)
			must(os.Remove(path))
			_, err = st.DB.FinishDeletions(ctx, ts)
			must(err)
		}
	}
	svc, err := openAccess(ctx, cfg, st.DB, nil)
	must(err)
	must(svc.Bootstrap(ctx, hostActor(), "anne", exportPassword))
	anne, err := svc.Login(ctx, "anne", exportPassword)
	must(err)
	must(svc.AddUser(ctx, anne, "kari", access.RoleLineManager, exportPassword))
	must(svc.AddUser(ctx, anne, "ola", access.RoleLineManager, exportPassword))
	_, err = svc.AddGrant(ctx, anne, "kari", []string{"training"}, time.Now().Add(48*time.Hour), "onboarding material for new staff")
	must(err)
}

// testConfigDir loads the configuration of a --data-dir folder as the binary would.
func testConfigDir(t *testing.T, dir string) *Config {
	t.Helper()
	cfg, err := LoadConfig("", false, testFlags(t, "--data-dir", dir))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// unzipAll returns the entries of the zip at path, decompressed.
func unzipAll(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

// auditCounts counts the audit entries of the folder's database by action/result.
func auditCounts(t *testing.T, dir string) map[string]int {
	t.Helper()
	ctx := context.Background()
	cfg := testConfigDir(t, dir)
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := openAccess(ctx, cfg, st.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	err = svc.Store.Audit(ctx, access.AuditFilter{}, func(e access.Entry) error {
		counts[e.Action+"/"+string(e.Result)]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

// auditAbout returns the audit entries of the folder's database that name any of the calls.
func auditAbout(t *testing.T, dir string, uuids ...string) []access.Entry {
	t.Helper()
	ctx := context.Background()
	cfg := testConfigDir(t, dir)
	db, err := openReadOnly(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var objs []access.Object
	for _, u := range uuids {
		objs = append(objs, access.Object{Kind: access.ObjectCall, ID: u})
	}
	var out []access.Entry
	if err := asqlite.New(db).Audit(ctx, access.AuditFilter{Objects: objs}, func(e access.Entry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
