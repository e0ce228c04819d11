package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/access/argon2id"
	asqlite "github.com/callconsent/callconsent/access/sqlite"
	csqlite "github.com/callconsent/callconsent/consent/sqlite"
)

var key = access.AuditKey(bytes.Repeat([]byte{5}, 32))

func openService(t testing.TB, dbPath, headPath string) (*access.Service, *csqlite.DB) {
	t.Helper()
	db := csqlite.NewDB(dbPath)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := argon2id.New()
	h.Params.Memory = 1024
	svc := access.NewService(asqlite.New(db), h, key, access.NewHeadFile(headPath))
	if err := svc.Open(context.Background()); err != nil {
		db.Close()
		t.Fatal(err)
	}
	return svc, db
}

// sqlExec runs statements on the database file directly, as someone with the sqlite3 shell and
// write access to the file would (the driver is registered by consent/sqlite).
func sqlExec(t *testing.T, path, query string) error {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(query)
	return err
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// dropTriggers is the attacker's first step: the triggers refuse UPDATE and DELETE.
const dropTriggers = `DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_append_at_end; DROP TRIGGER audit_objects_no_delete; `

// TestAuditTamper makes each of the five kinds of tampering with SQL on a copy of a real log, and
// changes to the object index, and checks that Verify names each at the right entry; the
// untouched log verifies.
func TestAuditTamper(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	orig, head := filepath.Join(dir, "orig.db"), filepath.Join(dir, "audit.key.head")
	svc, db := openService(t, orig, head)
	host := access.HostActor("root")
	for i := 1; i <= 8; i++ {
		if _, err := svc.Append(ctx, access.Entry{Actor: host.Name, ActorKind: host.Kind, Action: "host-read",
			Time:    time.Date(2026, 11, 30, 10, i, 0, 0, time.UTC),
			Objects: []access.Object{{Kind: access.ObjectCall, ID: fmt.Sprintf("call-%d", i)}}, Detail: fmt.Sprintf("entry %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The triggers refuse changes while they stand.
	if err := sqlExec(t, orig, `UPDATE audit_log SET reason = 'x' WHERE seq = 3`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update: %v", err)
	}
	if err := sqlExec(t, orig, `DELETE FROM audit_log WHERE seq = 3`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("delete: %v", err)
	}
	if err := sqlExec(t, orig, `INSERT INTO audit_log SELECT 3, time, actor, actor_kind, role, action, purpose, reason, objects, result, detail, prev_mac, mac FROM audit_log WHERE seq = 2`); err == nil {
		t.Fatal("insert in the middle accepted")
	}
	rep, err := svc.Verify(ctx, host)
	if err != nil || !rep.OK() || rep.Entries != 8 {
		t.Fatalf("untouched log: %+v %v", rep, err)
	}
	db.Close() // checkpoints: the file alone holds the log
	headBytes, _ := os.ReadFile(head)

	for _, c := range []struct {
		name, sql, kind string
		seq             int64
	}{
		{"changed", `UPDATE audit_log SET detail = 'entry 4 (edited)' WHERE seq = 4`, access.TamperChanged, 4},
		{"deleted", `DELETE FROM audit_objects WHERE seq = 5; DELETE FROM audit_log WHERE seq = 5`, access.TamperDeleted, 6},
		{"inserted", `UPDATE audit_log SET seq = seq + 100 WHERE seq >= 4; UPDATE audit_log SET seq = seq - 99 WHERE seq >= 100;
			INSERT INTO audit_log SELECT 4, time, 'root', actor_kind, role, 'host-read', purpose, reason, objects, result, 'forged', mac, randomblob(32) FROM audit_log WHERE seq = 3`, access.TamperInserted, 4},
		{"swapped", `UPDATE audit_log SET seq = -1 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = 7; UPDATE audit_log SET seq = 7 WHERE seq = -1`, access.TamperSwapped, 6},
		{"cut tail", `DELETE FROM audit_objects WHERE seq >= 7; DELETE FROM audit_log WHERE seq >= 7`, access.TamperCutTail, 7},
		// A look-up by call (a DSAR) goes through audit_objects: a row deleted there hides entry
		// 3 from it, a row added there names a call entry 4 is not about.
		{"index row deleted", `DELETE FROM audit_objects WHERE seq = 3`, access.TamperIndex, 3},
		{"index row added", `INSERT INTO audit_objects (kind, id, seq) VALUES ('call', 'call-99', 4)`, access.TamperIndex, 4},
		{"index row for no entry", `INSERT INTO audit_objects (kind, id, seq) VALUES ('call', 'call-99', 42)`, access.TamperIndex, 42},
	} {
		t.Run(c.name, func(t *testing.T) {
			cdir := t.TempDir()
			cp, chead := filepath.Join(cdir, "copy.db"), filepath.Join(cdir, "audit.key.head")
			copyFile(t, orig, cp)
			if err := os.WriteFile(chead, headBytes, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := sqlExec(t, cp, `PRAGMA foreign_keys = OFF; `+dropTriggers+c.sql); err != nil {
				t.Fatal(err)
			}
			// The head file is read before Verify appends its own entry.
			svc, db := openService(t, cp, chead)
			defer db.Close()
			rep, err := svc.Verify(ctx, host)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatalf("%s not detected", c.name)
			}
			p := rep.Problems[0]
			if p.Kind != c.kind || p.Seq != c.seq {
				t.Fatalf("problems = %+v, want %s at seq %d first", rep.Problems, c.kind, c.seq)
			}
			t.Logf("%s: %s", c.name, p.Message)
		})
	}
}

// TestAuditPrune: pruning keeps the rest verifiable, and a forged anchor shows.
func TestAuditPrune(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, head := filepath.Join(dir, "a.db"), filepath.Join(dir, "audit.key.head")
	svc, db := openService(t, path, head)
	defer db.Close()
	clock := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	svc.Now = func() time.Time { return clock }
	host := access.HostActor("root")
	for i := 0; i < 6; i++ {
		if _, err := svc.Append(ctx, access.Entry{Actor: "root", ActorKind: access.ActorHost, Action: "host-read", Time: clock}); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(365 * 24 * time.Hour)
	}
	clock = clock.Add(-365 * 24 * time.Hour) // now is the newest entry's time (the cutoff is measured from the earlier)
	n, err := svc.Prune(ctx, host, 2*365*24*time.Hour)
	if err != nil || n != 3 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	rep, err := svc.Verify(ctx, host)
	if err != nil || !rep.OK() || rep.FirstSeq != 4 {
		t.Fatalf("after prune: %+v %v", rep, err)
	}
	// Pruning again keeps what is young enough.
	if n, err := svc.Prune(ctx, host, 2*365*24*time.Hour); err != nil || n != 0 {
		t.Fatalf("second prune: %d %v", n, err)
	}
	// An anchor moved forward without the key (deleting entries 4 and 5) shows.
	db.Close()
	if err := sqlExec(t, path, `PRAGMA foreign_keys = OFF; UPDATE audit_anchor SET seq = 6, prev_mac = (SELECT mac FROM audit_log WHERE seq = 5) WHERE id = 1; DELETE FROM audit_objects WHERE seq < 6; DELETE FROM audit_log WHERE seq < 6`); err != nil {
		t.Fatal(err)
	}
	svc, db = openService(t, path, head)
	defer db.Close()
	rep, err = svc.Verify(ctx, host)
	if err != nil || rep.OK() || rep.Problems[0].Kind != access.TamperAnchor {
		t.Fatalf("forged anchor: %+v %v", rep, err)
	}
}

// TestAuditHeadMissing: a log with entries and no head file cannot show a cut tail; verify
// says so instead of passing.
func TestAuditHeadMissing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	head := filepath.Join(dir, "audit.key.head")
	svc, db := openService(t, filepath.Join(dir, "a.db"), head)
	defer db.Close()
	host := access.HostActor("root")
	if _, err := svc.Append(ctx, access.Entry{Actor: "root", ActorKind: access.ActorHost, Action: "host-read"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(head); err != nil {
		t.Fatal(err)
	}
	rep, err := svc.Verify(ctx, host)
	if err != nil || rep.OK() || rep.Problems[0].Kind != access.TamperHead || !strings.Contains(rep.Problems[0].Message, "missing") {
		t.Fatalf("verify without head file: %+v %v", rep, err)
	}
}

// TestAuditPruneRefusesTampered: someone with write access to the database but not the key
// backdates entries (their own listen among them) so that the next prune would delete them and
// seal the cut. The prune verifies the chain first and refuses; verify names the change, and
// the listen entry survives. A clock running ahead prunes nothing either.
func TestAuditPruneRefusesTampered(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, head := filepath.Join(dir, "a.db"), filepath.Join(dir, "audit.key.head")
	svc, db := openService(t, path, head)
	clock := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	svc.Now = func() time.Time { return clock }
	host := access.HostActor("root")
	for i := 1; i <= 10; i++ {
		action := "host-read"
		if i == 5 {
			action = "listen"
		}
		if _, err := svc.Append(ctx, access.Entry{Actor: "mallory", ActorKind: access.ActorUser, Action: action,
			Objects: []access.Object{{Kind: access.ObjectCall, ID: fmt.Sprintf("call-%d", i)}}}); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Minute)
	}
	const retention = 3 * 365 * 24 * time.Hour

	// A clock ahead by the retention and a few minutes: the newest entry is minutes old, so
	// nothing is old enough.
	clock = clock.Add(retention + 5*time.Minute)
	if n, err := svc.Prune(ctx, host, retention); err != nil || n != 0 {
		t.Fatalf("prune with the clock ahead: %d %v", n, err)
	}
	clock = clock.Add(-retention - 5*time.Minute)
	db.Close()

	if err := sqlExec(t, path, `DROP TRIGGER audit_log_no_update; UPDATE audit_log SET time = '2020-01-01T00:00:00Z' WHERE seq <= 7`); err != nil {
		t.Fatal(err)
	}
	svc, db = openService(t, path, head)
	defer db.Close()
	svc.Now = func() time.Time { return clock }
	n, err := svc.Prune(ctx, host, retention)
	if err == nil || n != 0 || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("prune of a backdated log: %d %v", n, err)
	}
	rep, err := svc.Verify(ctx, host)
	if err != nil || rep.OK() || rep.Problems[0].Kind != access.TamperChanged || rep.Problems[0].Seq != 1 || rep.FirstSeq != 1 {
		t.Fatalf("verify after the refused prune: %+v %v", rep, err)
	}
	var listens int
	err = svc.Store.Audit(ctx, access.AuditFilter{Action: "listen"}, func(e access.Entry) error { listens++; return nil })
	if err != nil || listens != 1 {
		t.Fatalf("listen entries = %d, %v", listens, err)
	}
}

// TestAuditCutTailDoesNotHeal: a tail cut from the database (entries 8-10) must not be covered by
// new entries taking seqs 8, 9, 10 and 11 again. Every append is refused while the log does not
// reach the head file's entry, so the logins that needed an entry fail, and verify keeps naming
// the cut.
func TestAuditCutTailDoesNotHeal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, head := filepath.Join(dir, "a.db"), filepath.Join(dir, "audit.key.head")
	svc, db := openService(t, path, head)
	host := access.HostActor("root")
	for i := 1; i <= 10; i++ {
		if _, err := svc.Append(ctx, access.Entry{Actor: "root", ActorKind: access.ActorHost, Action: "host-read"}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if err := sqlExec(t, path, `PRAGMA foreign_keys = OFF; `+dropTriggers+`DELETE FROM audit_objects WHERE seq >= 8; DELETE FROM audit_log WHERE seq >= 8`); err != nil {
		t.Fatal(err)
	}
	svc, db = openService(t, path, head)
	defer db.Close()
	for i := 0; i < 5; i++ {
		if _, err := svc.Login(ctx, "nobody", "wrong password here"); !errors.Is(err, access.ErrChainBroken) {
			t.Fatalf("failed login %d: %v, want ErrChainBroken", i, err)
		}
	}
	if _, err := svc.Append(ctx, access.Entry{Actor: "root", ActorKind: access.ActorHost, Action: "host-read"}); !errors.Is(err, access.ErrChainBroken) {
		t.Fatalf("append: %v", err)
	}
	rep, err := svc.Verify(ctx, host)
	if err != nil || rep.OK() || rep.Problems[0].Kind != access.TamperCutTail || rep.Problems[0].Seq != 8 || rep.Entries != 7 {
		t.Fatalf("verify after appends: %+v %v", rep, err)
	}
}
