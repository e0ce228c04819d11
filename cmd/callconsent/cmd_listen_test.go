package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/export"
	"github.com/callconsent/callconsent/recordings"
)

// TestListen_AuditedBeforeCopy: a listen's access is on record ("listen.started") before the
// audio is copied into the hidden temporary file beside --out, so a crash mid-copy leaves no
// unaudited copy; a temporary file a crashed run left beside --out is removed.
func TestListen_AuditedBeforeCopy(t *testing.T) {
	cheapHashing(t)
	ctx := context.Background()
	cfg := testConfig(t)
	seedCalls(t, cfg)
	wav := recordings.Path(cfg.RecordingsDir, uuidGranted, day)
	if err := os.MkdirAll(filepath.Dir(wav), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wav, []byte("RIFF audio of the granted call"), 0o600); err != nil {
		t.Fatal(err)
	}
	const olgaPW, matsPW = "officer password 1", "manager password 2"
	as := func(name string, lines ...string) identityOptions {
		return identityOptions{As: name, secrets: stdin(lines...)}
	}
	var out bytes.Buffer
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(runUsersAdd(ctx, cfg, usersOptions{Role: "security-officer", identityOptions: as("", olgaPW)}, "olga", &out))
	must(runUsersAdd(ctx, cfg, usersOptions{Role: "line-manager", identityOptions: as("olga", olgaPW, matsPW)}, "mats", &out))
	must(runGrantsAdd(ctx, cfg, grantsOptions{usersOptions: usersOptions{identityOptions: as("olga", olgaPW), Reason: "new QA lead for the Oslo team"},
		Purposes: []string{"quality-assurance"}, Expires: expiryFlag{timeFlag: timeFlag{time.Now().Add(48 * time.Hour)}}}, "mats", &out))

	dir := t.TempDir()
	dst := filepath.Join(dir, "call.wav")
	stale := filepath.Join(dir, ".call.wav.tmp-123")
	must(os.WriteFile(stale, []byte("audio copied by a run that crashed"), 0o600))
	old := time.Now().Add(-export.StaleAfter - time.Minute)
	must(os.Chtimes(stale, old, old))
	must(runListen(ctx, cfg, recordOptions{identityOptions: as("mats", matsPW), Purpose: "quality-assurance", Reason: "complaint 4711 about agent tone", Out: dst}, uuidGranted, &out))
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temporary file is still there")
	}

	db := sqlite.NewDB(cfg.DB)
	must(db.Open(ctx))
	defer db.Close()
	svc, err := openAccess(ctx, cfg, db, nil)
	must(err)
	var started, done []access.Entry
	must(svc.Store.Audit(ctx, access.AuditFilter{Objects: []access.Object{{Kind: access.ObjectCall, ID: uuidGranted}}}, func(e access.Entry) error {
		switch e.Action {
		case "listen.started":
			started = append(started, e)
		case "listen":
			done = append(done, e)
		}
		return nil
	}))
	if len(started) != 1 || len(done) != 1 || started[0].Seq >= done[0].Seq || started[0].Actor != "mats" || started[0].Purpose != "quality-assurance" {
		t.Fatalf("listen entries: started %+v, done %+v", started, done)
	}
}
