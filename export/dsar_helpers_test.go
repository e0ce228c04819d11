package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/export"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/recordings/recordingstest"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// world is a real store, recordings folder and notices for access archives.
type world struct {
	t       testing.TB
	db      *sqlite.DB
	recDir  string
	notices []export.NoticeFile
	now     time.Time
	audit   fakeAudit
	seq     int
}

func newWorld(t testing.TB) *world {
	dir := t.TempDir()
	w := &world{t: t, recDir: filepath.Join(dir, "recordings"), now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	w.db = sqlite.NewDB(filepath.Join(dir, "callconsent.db"))
	w.db.Now = func() time.Time { return w.now }
	if err := w.db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.db.Close() })
	nb := filepath.Join(dir, "notice-nb.wav")
	recordingstest.WriteWAV(t, nb, 1, 16000, -1)
	w.notices = []export.NoticeFile{{Language: "nb", Version: "2026-11-26.1", Path: nb}}
	return w
}

// noticeSHA is the hash of the notice the world's callers hear now.
func (w *world) noticeSHA() string {
	b, err := os.ReadFile(w.notices[0].Path)
	if err != nil {
		w.t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// call stores a call of caller decided d, started a few minutes after the previous one. A
// grant gets a complete recording of audio bytes of silence on disk (audio < 0: none).
func (w *world) call(caller string, d consent.Decision, version string, audio int) *consent.Call {
	t, ctx := w.t, context.Background()
	t.Helper()
	w.seq++
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(w.seq) * 7 * time.Minute)
	c := &consent.Call{UUID: uuidN(w.seq), CallerPseudonym: caller, Language: "nb", StartedAt: start}
	if err := w.db.CreateCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	sha := w.noticeSHA()
	if version != "2026-11-26.1" {
		sha = hex.EncodeToString(make([]byte, 32)) // an old notice, no longer held
	}
	p := &consent.Proof{DecidedAt: start.Add(20 * time.Second), Digit: map[consent.Decision]string{consent.DecisionGranted: "1", consent.DecisionDeclined: "2"}[d],
		Tries: 1, NoticeVersion: version, NoticeSHA256: sha, Language: "nb", HeardMS: 9000}
	if d != consent.DecisionGranted {
		if err := w.db.DecideCall(ctx, c.UUID, d, p); err != nil {
			t.Fatal(err)
		}
		return c
	}
	path := recordings.Path(w.recDir, c.UUID, start)
	if err := w.db.Grant(ctx, c.UUID, p, &consent.Recording{CallUUID: c.UUID, Path: path, StartedAt: start.Add(21 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if audio >= 0 {
		os.MkdirAll(filepath.Dir(path), 0o700)
		recordingstest.WriteWAV(t, path, 2, audio, -1)
	}
	for _, st := range []consent.RecordingState{consent.RecordingRecording, consent.RecordingComplete} {
		if err := w.db.UpdateRecording(ctx, c.UUID, st, consent.RecordingUpdate{EndedAt: start.Add(5 * time.Minute), DurationMS: int64(max(audio, 0)) / 32, Bytes: int64(max(audio, 0)) + 44}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.db.EndCall(ctx, c.UUID, start.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	return c
}

// deleteAudio deletes a call's recording as the sweeper does, leaving a tombstone for reason.
func (w *world) deleteAudio(c *consent.Call, reason consent.DeletionReason) {
	ctx := context.Background()
	path := recordings.Path(w.recDir, c.UUID, c.StartedAt)
	ts := []consent.Tombstone{{CallUUID: c.UUID, Path: path, Reason: reason, Bytes: 1}}
	if _, err := w.db.MarkDeleting(ctx, ts); err != nil {
		w.t.Fatal(err)
	}
	os.Remove(path)
	if _, err := w.db.FinishDeletions(ctx, ts); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) sources() export.Sources {
	return export.Sources{Store: w.db, Audit: &w.audit, Notices: w.notices, RecordingsDir: w.recDir}
}

// uuidN is a call UUID made from n.
func uuidN(n int) string {
	s := hex.EncodeToString([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	return s + "-aaaa-4bbb-8ccc-" + s + "dddd"
}

// fakeAudit is an audit log held in memory, as the access layer's would answer.
type fakeAudit struct{ entries []export.AuditEntry }

func (f *fakeAudit) EntriesNaming(_ context.Context, uuids []string) ([]export.AuditEntry, error) {
	var out []export.AuditEntry
	for _, e := range f.entries {
		for _, u := range e.Calls {
			if contains(uuids, u) {
				out = append(out, e)
				break
			}
		}
	}
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// readArchive opens the zip at path and returns its entries by name, decompressed.
func readArchive(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = b
	}
	return out
}

// validateManifest checks b against testdata/schema/dsar-manifest.schema.json.
func validateManifest(t *testing.T, b []byte) {
	t.Helper()
	if err := schemaErr(t, b); err != nil {
		t.Fatalf("manifest.json does not validate: %v\n%s", err, b)
	}
}

// schemaErr is what the schema says of the JSON b.
func schemaErr(t *testing.T, b []byte) error {
	t.Helper()
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join("..", "testdata", "schema", "dsar-manifest.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(v)
}

func decodeManifest(t *testing.T, b []byte) *export.Manifest {
	t.Helper()
	var m export.Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return &m
}
