package export_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/access/argon2id"
	asqlite "github.com/callconsent/callconsent/access/sqlite"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/export"
)

const password = "correct horse battery staple 42"

// office is a world with an access service in the same database: a security officer, a line
// manager with a training grant (kari) and one without any grant (ola).
type office struct {
	*world
	acc           *access.Service
	store         *asqlite.Store
	svc           *export.Service
	so, kari, ola access.Actor
	host          access.Actor
}

func newOffice(t *testing.T) *office {
	ctx := context.Background()
	o := &office{world: newWorld(t)}
	o.store = asqlite.New(o.db)
	p := argon2id.DefaultParams
	p.Memory = 1024
	o.acc = access.NewService(o.store, &argon2id.Hasher{Params: p}, access.AuditKey(make([]byte, access.AuditKeySize)), nil)
	o.acc.Now = func() time.Time { return o.now }
	if err := o.acc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	o.host = access.HostActor("root")
	if _, err := o.acc.SeedPurposes(ctx, o.host, []string{"training", "quality-assurance"}); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(o.acc.Bootstrap(ctx, o.host, "so-anne", password))
	var err error
	o.so, err = o.acc.Login(ctx, "so-anne", password)
	must(err)
	must(o.acc.AddUser(ctx, o.so, "lm-kari", access.RoleLineManager, password))
	must(o.acc.AddUser(ctx, o.so, "lm-ola", access.RoleLineManager, password))
	_, err = o.acc.AddGrant(ctx, o.so, "lm-kari", []string{"training", "quality-assurance"}, o.now.Add(48*time.Hour), "onboarding material for the new staff")
	must(err)
	o.kari, err = o.acc.Login(ctx, "lm-kari", password)
	must(err)
	o.ola, err = o.acc.Login(ctx, "lm-ola", password)
	must(err)
	o.svc = &export.Service{Access: o.acc, Store: o.db, Notices: o.notices, RecordingsDir: o.recDir, Now: func() time.Time { return o.now }}
	return o
}

// entries returns the audit entries of action.
func (o *office) entries(t *testing.T, action string) []access.Entry {
	t.Helper()
	var out []access.Entry
	if err := o.store.Audit(context.Background(), access.AuditFilter{Action: action}, func(e access.Entry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

const reason = "material for the december onboarding course"

func TestService_Training(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	me := strings.Repeat("ab", 32)
	granted := o.call(me, consent.DecisionGranted, "2026-11-26.1", 64000)
	declined := o.call(me, consent.DecisionDeclined, "2026-11-26.1", -1)
	withdrawn := o.call(me, consent.DecisionGranted, "2026-11-26.1", 3200)
	gone := o.call(me, consent.DecisionGranted, "2026-11-26.1", 3200)
	o.db.Withdraw(ctx, consent.Withdrawal{CallUUID: withdrawn.UUID, At: o.now, Reason: "ticket 5"})
	o.deleteAudio(gone, consent.ReasonRetention)
	dir := t.TempDir()
	req := func(a access.Actor, call, purpose, why, name string) export.TrainingRequest {
		return export.TrainingRequest{Actor: a, CallUUID: call, Purpose: purpose, Reason: why, Out: filepath.Join(dir, name+".wav"), Mutes: mutes(t, "caller:0.5-1")}
	}

	res, err := o.svc.Training(ctx, req(o.kari, granted.UUID, "training", reason, "ok"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(res.Out); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  export.TrainingRequest
		code string
		why  string
	}{
		{"NoGrant", req(o.ola, granted.UUID, "training", reason, "ola"), consent.ECONFLICT, "no grant"},
		{"NoReason", req(o.kari, granted.UUID, "training", "", "noreason"), consent.ECONFLICT, "reason is required"},
		{"ShortReason", req(o.kari, granted.UUID, "training", "because", "short"), consent.ECONFLICT, "at least"},
		{"OtherPurpose", req(o.kari, granted.UUID, "quality-assurance", reason, "qa"), consent.ECONFLICT, "--purpose training"},
		{"NoPurpose", req(o.kari, granted.UUID, "", reason, "nopurpose"), consent.ECONFLICT, "--purpose training"},
		{"Officer", req(o.so, granted.UUID, "training", reason, "so"), consent.ECONFLICT, "separation of duties"},
		{"Declined", req(o.kari, declined.UUID, "training", reason, "declined"), consent.ECONFLICT, "no consent"},
		{"Withdrawn", req(o.kari, withdrawn.UUID, "training", reason, "withdrawn"), consent.ECONFLICT, "withdrew consent"},
		{"Gone", req(o.kari, gone.UUID, "training", reason, "gone"), consent.ECONFLICT, "is gone"},
		{"Unknown", req(o.kari, uuidN(999), "training", reason, "unknown"), consent.ENOTFOUND, "not found"},
	} {
		t.Run("Err"+tc.name, func(t *testing.T) {
			_, err := o.svc.Training(ctx, tc.req)
			if consent.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("err = %v; want %s saying %q", err, tc.code, tc.why)
			}
			if _, err := os.Stat(tc.req.Out); err == nil {
				t.Error("a refused export left a file")
			}
		})
	}

	// Every attempt is audited: one ok, one error (unknown call), the rest denied.
	es := o.entries(t, "export")
	count := map[access.Result]int{}
	for _, e := range es {
		count[e.Result]++
		if e.Reason != "" && e.Reason != reason && e.Reason != "because" {
			t.Errorf("entry %d reason %q", e.Seq, e.Reason)
		}
	}
	if len(es) != 11 || count[access.ResultOK] != 1 || count[access.ResultError] != 1 || count[access.ResultDenied] != 9 {
		t.Fatalf("%d export entries: %v", len(es), count)
	}
	var ok access.Entry
	for _, e := range es {
		if e.Result == access.ResultOK {
			ok = e
		}
	}
	// The id is in the audit log, with the call; neither file holds the call.
	if !ok.About(access.ObjectCall, granted.UUID) || !ok.About(access.ObjectExport, res.Sidecar.ExportID) || ok.Actor != "lm-kari" || ok.Purpose != "training" {
		t.Errorf("ok entry %+v", ok)
	}
	for _, p := range []string{res.Out, res.SidecarPath} {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), granted.UUID) || strings.Contains(string(b), me) {
			t.Errorf("%s names the call", p)
		}
	}

	// After a withdrawal the export is listed for the call, so the copy can be removed.
	if _, err := o.db.Withdraw(ctx, consent.Withdrawal{CallUUID: granted.UUID, At: o.now, Reason: "ticket 6"}); err != nil {
		t.Fatal(err)
	}
	got, err := export.TrainingExports(ctx, o.store, granted.UUID)
	if err != nil || len(got) != 1 || got[0].ExportID != res.Sidecar.ExportID || got[0].By != "lm-kari" || !got[0].At.Equal(o.now) {
		t.Fatalf("TrainingExports = %+v, %v", got, err)
	}
	if got, _ := export.TrainingExports(ctx, o.store, declined.UUID); len(got) != 0 {
		t.Errorf("a refused export is listed: %+v", got)
	}
}

func TestService_DSAR(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	me := strings.Repeat("ab", 32)
	granted := o.call(me, consent.DecisionGranted, "2026-11-26.1", 3200)
	o.call(strings.Repeat("cd", 32), consent.DecisionGranted, "2026-11-26.1", 3200)
	if _, err := o.svc.Training(ctx, export.TrainingRequest{Actor: o.kari, CallUUID: granted.UUID, Purpose: "training", Reason: reason, Out: filepath.Join(t.TempDir(), "t.wav")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	req := func(a access.Actor, why, name string, dry bool) export.DSARRequest {
		return export.DSARRequest{Actor: a, CallerPseudonym: me, Reason: why, Out: filepath.Join(dir, name), DryRun: dry}
	}
	const why = "access request from the caller, ticket 991"
	res, err := o.svc.DSAR(ctx, req(o.so, why, "a.zip", false))
	if err != nil {
		t.Fatal(err)
	}
	files := readArchive(t, res.Written.Path)
	validateManifest(t, files["manifest.json"])
	m := decodeManifest(t, files["manifest.json"])
	// Who accessed the call: kari's export is in the archive, with purpose and reason.
	var sawExport bool
	for _, a := range m.Audit {
		sawExport = sawExport || (a.Action == "export" && a.Actor == "lm-kari" && a.Reason == reason && a.Result == "ok")
	}
	if !sawExport || len(m.Calls) != 1 {
		t.Errorf("manifest: %d calls, audit %+v", len(m.Calls), m.Audit)
	}
	if dry, err := o.svc.DSAR(ctx, req(o.so, why, "dry.zip", true)); err != nil || dry.Written != nil || dry.Archive.Summary().Calls != 1 {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dry.zip")); err == nil {
		t.Error("a dry run wrote the archive")
	}
	for name, r := range map[string]export.DSARRequest{
		"LineManager": req(o.kari, why, "lm.zip", false),
		"NoReason":    req(o.so, "", "noreason.zip", false),
		"Host":        req(o.host, why, "host.zip", false),
	} {
		if _, err := o.svc.DSAR(ctx, r); consent.ErrorCode(err) != consent.ECONFLICT {
			t.Errorf("%s: err = %v; want denied", name, err)
		}
		if _, err := os.Stat(r.Out); err == nil {
			t.Errorf("%s: a denied request wrote the archive", name)
		}
	}
	es := o.entries(t, "dsar")
	var okEntries, denied int
	for _, e := range es {
		switch e.Result {
		case access.ResultOK:
			okEntries++
			if !e.About(access.ObjectCall, granted.UUID) {
				t.Errorf("dsar entry %d does not name the call: %+v", e.Seq, e.Objects)
			}
		case access.ResultDenied:
			denied++
		}
	}
	if len(es) != 5 || okEntries != 2 || denied != 3 {
		t.Fatalf("%d dsar entries, %d ok, %d denied: %+v", len(es), okEntries, denied, es)
	}
	if !strings.Contains(es[0].Detail, "sha256="+res.Written.SHA256) || !strings.Contains(es[1].Detail, "dry run") {
		t.Errorf("details: %q, %q", es[0].Detail, es[1].Detail)
	}
}

// TestService_NoRecordNoExport: when the ok entry cannot be written, the export is not
// disclosed: its temporary files are removed and no file appears under its name.
func TestService_NoRecordNoExport(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	me := strings.Repeat("ab", 32)
	c := o.call(me, consent.DecisionGranted, "2026-11-26.1", 3200)
	raw, err := sql.Open("sqlite3", o.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER refuse_ok_exports BEFORE INSERT ON audit_log
		WHEN NEW.result = 'ok' AND NEW.action IN ('export', 'dsar') BEGIN SELECT RAISE(ABORT, 'audit log full'); END`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = o.svc.Training(ctx, export.TrainingRequest{Actor: o.kari, CallUUID: c.UUID, Purpose: "training", Reason: reason, Out: filepath.Join(dir, "t.wav")})
	if err == nil || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("training export with its entry refused: %v", err)
	}
	_, err = o.svc.DSAR(ctx, export.DSARRequest{Actor: o.so, CallerPseudonym: me, Reason: "access request from the caller, ticket 992", Out: filepath.Join(dir, "a.zip")})
	if err == nil || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("archive with its entry refused: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d files left in the out folder", len(ents))
	}
}

// TestPrepareTraining_CommitAllOrNothing: a sidecar name taken between writing and naming
// leaves neither file under its name.
func TestPrepareTraining_CommitAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.wav")
	stereoWAV(t, src, 8000)
	out := filepath.Join(t.TempDir(), "t.wav")
	_, p, err := export.PrepareTraining(export.Training{Recording: src, Out: out, ExportID: export.NewExportID()})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(export.SidecarPath(out), []byte("someone else's"), 0o600)
	if err := p.Commit(); consent.ErrorCode(err) != consent.ECONFLICT {
		t.Fatalf("Commit = %v", err)
	}
	ents, _ := os.ReadDir(filepath.Dir(out))
	if _, err := os.Stat(out); err == nil || len(ents) != 1 {
		t.Errorf("after a failed commit: %d entries, wav %v", len(ents), err)
	}
}

// TestService_TrainingOutsideRecordings: a recording whose stored path is not inside the
// recordings folder (someone changed the database) is refused and audited, as listen and the
// DSAR refuse it, and nothing is written.
func TestService_TrainingOutsideRecordings(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	granted := o.call(strings.Repeat("cd", 32), consent.DecisionGranted, "2026-11-26.1", 64000)
	o.svc.RecordingsDir = t.TempDir() // the recording lies in another folder
	out := filepath.Join(t.TempDir(), "x.wav")
	_, err := o.svc.Training(ctx, export.TrainingRequest{Actor: o.kari, CallUUID: granted.UUID, Purpose: "training", Reason: reason, Out: out})
	if consent.ErrorCode(err) != consent.ECONFLICT || !strings.Contains(err.Error(), "not inside recordings-dir") {
		t.Fatalf("export of a recording outside the folder: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a file was written")
	}
	if es := o.entries(t, "export"); len(es) != 1 || es[0].Result != access.ResultDenied {
		t.Errorf("entries: %+v", es)
	}
}

// TestService_AuditedBeforeWrite: an export's access is on record before its first byte is
// written (a crash mid-write must not leave an unaudited copy in a hidden file): while the
// files are being written, an "<action>.started" entry names the export id or the calls; and a
// temporary file a crashed run left beside --out is removed, a fresh one (a run under way) kept.
func TestService_AuditedBeforeWrite(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	me := strings.Repeat("ab", 32)
	granted := o.call(me, consent.DecisionGranted, "2026-11-26.1", 64000)
	dir := t.TempDir()
	out := filepath.Join(dir, "t.wav")
	stale, fresh := filepath.Join(dir, ".t.wav.tmp-111"), filepath.Join(dir, ".t.wav.tmp-222")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("audio of a crashed run"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-export.StaleAfter - time.Minute)
	os.Chtimes(stale, old, old)

	var startedWhileWriting []access.Entry
	progress := func(action string) func(done, total int64) {
		return func(done, total int64) {
			if startedWhileWriting == nil {
				startedWhileWriting = append([]access.Entry{}, o.entries(t, action+".started")...)
			}
		}
	}
	res, err := o.svc.Training(ctx, export.TrainingRequest{Actor: o.kari, CallUUID: granted.UUID, Purpose: "training", Reason: reason, Out: out, Progress: progress("export")})
	if err != nil {
		t.Fatal(err)
	}
	if len(startedWhileWriting) != 1 || !startedWhileWriting[0].About(access.ObjectExport, res.Sidecar.ExportID) || !startedWhileWriting[0].About(access.ObjectCall, granted.UUID) {
		t.Fatalf("export.started entries while writing: %+v", startedWhileWriting)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temporary file is still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temporary file (a run under way) was removed")
	}

	startedWhileWriting = nil
	if _, err := o.svc.DSAR(ctx, export.DSARRequest{Actor: o.so, CallerPseudonym: me, Reason: "access request from the caller, ticket 991",
		Out: filepath.Join(dir, "a.zip"), Progress: progress("dsar")}); err != nil {
		t.Fatal(err)
	}
	if len(startedWhileWriting) != 1 || !startedWhileWriting[0].About(access.ObjectCall, granted.UUID) {
		t.Fatalf("dsar.started entries while writing: %+v", startedWhileWriting)
	}
}
