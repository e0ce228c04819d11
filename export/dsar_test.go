package export_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/export"
	"github.com/callconsent/callconsent/recordings"
)

// TestDSAR builds the archive of a caller with a granted, a declined, a withdrawn and a
// retention-deleted call (and one whose notice version is no longer held), beside another
// caller's calls, and checks it as the caller would: the manifest validates against the
// schema, every hash matches, every audit entry about the calls is there, and nothing of the
// other caller is inside.
func TestDSAR(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const number = "+4791234567"
	pz, _ := consent.NewPseudonymizer(bytes.Repeat([]byte{7}, 32))
	me, other := pz.Pseudonym(number), pz.Pseudonym("+4798765432")

	granted := w.call(me, consent.DecisionGranted, "2026-11-26.1", 32000)
	declined := w.call(me, consent.DecisionDeclined, "2026-11-26.1", -1)
	withdrawn := w.call(me, consent.DecisionGranted, "2026-11-26.1", 16000)
	expired := w.call(me, consent.DecisionGranted, "2025-01-01.1", 8000)
	theirs := w.call(other, consent.DecisionGranted, "2026-11-26.1", 64000)
	if _, err := w.db.Withdraw(ctx, consent.Withdrawal{CallUUID: withdrawn.UUID, At: w.now, Reason: "ticket 4711"}); err != nil {
		t.Fatal(err)
	}
	w.deleteAudio(withdrawn, consent.ReasonWithdrawal)
	w.deleteAudio(expired, consent.ReasonRetention)
	w.audit.entries = []export.AuditEntry{
		{Seq: 1, At: w.now, Actor: "lm-kari", Role: "line-manager", Action: "listen", Purpose: "training", Reason: "coaching session 12", Result: "ok", Calls: []string{granted.UUID}},
		{Seq: 2, At: w.now, Actor: "lm-kari", Role: "line-manager", Action: "search", Purpose: "quality-assurance", Reason: "weekly review", Result: "ok", Calls: []string{theirs.UUID, declined.UUID}},
		{Seq: 3, At: w.now, Actor: "lm-ola", Role: "line-manager", Action: "listen", Purpose: "training", Reason: "their call", Result: "denied", Calls: []string{theirs.UUID}},
		{Seq: 4, At: w.now, Actor: "root", Role: "host", Action: "withdraw", Reason: "ticket 4711", Result: "ok", Calls: []string{withdrawn.UUID}},
	}

	a, err := export.Prepare(ctx, w.sources(), export.Request{CallerPseudonym: me, By: "so-anne", Now: w.now})
	if err != nil {
		t.Fatal(err)
	}
	if s := a.Summary(); s.Calls != 4 || s.Recordings != 1 || s.Deleted != 2 || s.Notices != 1 || s.NoticesAbsent != 1 || s.AuditEntries != 3 || s.ArchiveFiles != 4 {
		t.Errorf("summary %+v", s)
	}
	outDir := t.TempDir()
	out := filepath.Join(outDir, "dsar.zip")
	var last, total int64
	wr, err := a.Write(ctx, out, func(d, tot int64) { last, total = d, tot })
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(out)
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != wr.SHA256 || wr.Bytes != int64(len(raw)) {
		t.Errorf("Written %+v; the file has %d bytes, sha256 %x", wr, len(raw), sum)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 1 {
		t.Errorf("%d entries in the out folder; want the archive alone", len(ents))
	}
	if last != total || total != 32044+16044 {
		t.Errorf("progress ended at %d of %d", last, total)
	}

	files := readArchive(t, out)
	validateManifest(t, files["manifest.json"])
	m := decodeManifest(t, files["manifest.json"])
	if m.CreatedBy != "so-anne" || m.CallerPseudonym != me || len(m.Calls) != 4 || m.FormatVersion != 1 {
		t.Fatalf("manifest: by %q, pseudonym %q, %d calls", m.CreatedBy, m.CallerPseudonym, len(m.Calls))
	}
	// Every file but the manifest is listed with its hash, and the hashes match.
	if len(m.Files) != len(files)-1 {
		t.Errorf("%d files listed, %d in the archive besides the manifest", len(m.Files), len(files)-1)
	}
	for _, f := range m.Files {
		sum := sha256.Sum256(files[f.Name])
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(files[f.Name])) != f.Bytes {
			t.Errorf("%s: listed %s (%d bytes), holds %x (%d bytes)", f.Name, f.SHA256, f.Bytes, sum, len(files[f.Name]))
		}
	}
	src, _ := os.ReadFile(recordings.Path(w.recDir, granted.UUID, granted.StartedAt))
	if a := files["audio/"+granted.UUID+".wav"]; !bytes.Equal(a, src) || len(src) == 0 {
		t.Errorf("audio of the granted call: %d bytes, source %d", len(a), len(src))
	}
	notice, _ := os.ReadFile(w.notices[0].Path)
	if !bytes.Equal(files["notices/nb-2026-11-26.1.wav"], notice) {
		t.Error("the notice heard is not in the archive")
	}

	byUUID := map[string]export.ManifestCall{}
	for _, c := range m.Calls {
		byUUID[c.UUID] = c
	}
	g, d, wd, ex := byUUID[granted.UUID], byUUID[declined.UUID], byUUID[withdrawn.UUID], byUUID[expired.UUID]
	switch {
	case g.Decision != consent.DecisionGranted || g.Proof == nil || g.Proof.Digit != "1" || g.Proof.HeardMS != 9000 || g.Proof.NoticeSHA256 != w.noticeSHA() ||
		g.Proof.NoticeFile == nil || *g.Proof.NoticeFile != "notices/nb-2026-11-26.1.wav" || g.Recording == nil || g.Recording.File == nil ||
		g.Recording.State != consent.RecordingComplete || g.Recording.DurationMS != 1000 || len(g.Tombstones) != 0:
		t.Errorf("granted call: %+v proof %+v recording %+v", g, g.Proof, g.Recording)
	case d.Decision != consent.DecisionDeclined || d.Proof == nil || d.Proof.Digit != "2" || d.Recording != nil:
		t.Errorf("declined call: %+v", d)
	case wd.Withdrawal == nil || wd.Withdrawal.Reason != "ticket 4711" || wd.Recording.File != nil || wd.Recording.State != consent.RecordingDeleted ||
		len(wd.Tombstones) != 1 || wd.Tombstones[0].Reason != consent.ReasonWithdrawal:
		t.Errorf("withdrawn call: %+v, recording %+v", wd, wd.Recording)
	case ex.Recording.File != nil || len(ex.Tombstones) != 1 || ex.Tombstones[0].Reason != consent.ReasonRetention || ex.Proof.NoticeFile != nil:
		t.Errorf("expired call: %+v, recording %+v", ex, ex.Recording)
	}
	// The audit entries about the caller's calls, each naming only theirs.
	if len(m.Audit) != 3 || m.Audit[0].Seq != 1 || m.Audit[1].Seq != 2 || m.Audit[2].Seq != 4 ||
		len(m.Audit[1].Calls) != 1 || m.Audit[1].Calls[0] != declined.UUID || m.Audit[0].Reason != "coaching session 12" || m.Audit[0].Purpose != "training" {
		t.Errorf("audit: %+v", m.Audit)
	}
	var absent int
	for _, n := range m.Notices {
		if n.File == nil {
			absent++
			if n.Version != "2025-01-01.1" || n.Note == "" {
				t.Errorf("absent notice %+v", n)
			}
		}
	}
	if absent != 1 || len(m.Notices) != 2 {
		t.Errorf("notices %+v", m.Notices)
	}
	if !strings.Contains(string(files["README.txt"]), "Vi har lagret 4 samtale(r)") || !strings.Contains(string(files["README.txt"]), "We hold 4 call(s)") {
		t.Errorf("README.txt:\n%s", files["README.txt"])
	}

	// No number, no other caller: in the archive's bytes and in every entry decompressed.
	secrets := []string{number, strings.TrimPrefix(number, "+"), "91234567", other, other[:12], theirs.UUID, "lm-ola", "their call", w.recDir}
	for name, b := range files {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q", name, s)
			}
		}
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the archive's bytes hold %q", s)
		}
	}
}

// TestDSAR_SchemaRefuses: the schema is no formality: a manifest with a caller number, without
// its hashes or with a call of an unknown decision does not validate.
func TestDSAR_SchemaRefuses(t *testing.T) {
	w := newWorld(t)
	me := strings.Repeat("ab", 32)
	w.call(me, consent.DecisionGranted, "2026-11-26.1", 3200)
	a, err := export.Prepare(context.Background(), w.sources(), export.Request{CallerPseudonym: me, By: "so-anne", Now: w.now})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "a.zip")
	if _, err := a.Write(context.Background(), out, nil); err != nil {
		t.Fatal(err)
	}
	good := string(readArchive(t, out)["manifest.json"])
	validateManifest(t, []byte(good))
	for name, bad := range map[string]string{
		"caller number": strings.Replace(good, `"caller_pseudonym"`, `"caller_number": "+4791234567", "caller_pseudonym"`, 1),
		"no files":      good[:strings.Index(good, `"files"`)] + `"files": []}`,
		"decision":      strings.Replace(good, `"decision": "granted"`, `"decision": "maybe"`, 1),
		"pseudonym":     strings.Replace(good, me, "anonymous", 1),
		"version":       strings.Replace(good, `"format_version": 1`, `"format_version": 2`, 1),
	} {
		if bad == good {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if err := schemaErr(t, []byte(bad)); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

// TestDSAR_NoCalls: a caller without calls gets an archive that says so, not an error.
func TestDSAR_NoCalls(t *testing.T) {
	w := newWorld(t)
	w.call(strings.Repeat("cd", 32), consent.DecisionGranted, "2026-11-26.1", 3200) // someone else
	a, err := export.Prepare(context.Background(), w.sources(), export.Request{CallerPseudonym: strings.Repeat("ab", 32), By: "so-anne", Now: w.now})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "a.zip")
	if _, err := a.Write(context.Background(), out, nil); err != nil {
		t.Fatal(err)
	}
	files := readArchive(t, out)
	validateManifest(t, files["manifest.json"])
	m := decodeManifest(t, files["manifest.json"])
	if len(m.Calls) != 0 || len(m.Files) != 1 || len(files) != 2 {
		t.Errorf("manifest %+v, files %d", m, len(files))
	}
	if r := string(files["README.txt"]); !strings.Contains(r, "Vi har ingen samtaler lagret") || !strings.Contains(r, "We hold no calls") {
		t.Errorf("README.txt:\n%s", r)
	}
}

// TestDSAR_Refused: what an archive must not be made of, and what it must not overwrite.
func TestDSAR_Refused(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	me := strings.Repeat("ab", 32)
	c := w.call(me, consent.DecisionGranted, "2026-11-26.1", 3200)
	t.Run("ErrAnonymous", func(t *testing.T) {
		_, err := export.Prepare(ctx, w.sources(), export.Request{CallerPseudonym: consent.AnonymousPseudonym, By: "so", Now: w.now})
		if consent.ErrorCode(err) != consent.EINVALID || !strings.Contains(err.Error(), "not a usable caller number") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrOutExists", func(t *testing.T) {
		a, _ := export.Prepare(ctx, w.sources(), export.Request{CallerPseudonym: me, By: "so", Now: w.now})
		out := filepath.Join(t.TempDir(), "a.zip")
		os.WriteFile(out, []byte("keep"), 0o600)
		if _, err := a.Write(ctx, out, nil); consent.ErrorCode(err) != consent.ECONFLICT {
			t.Fatalf("err = %v", err)
		}
		if b, _ := os.ReadFile(out); string(b) != "keep" {
			t.Fatal("the existing file was replaced")
		}
	})
	t.Run("ErrAudioChanged", func(t *testing.T) {
		a, _ := export.Prepare(ctx, w.sources(), export.Request{CallerPseudonym: me, By: "so", Now: w.now})
		path := recordings.Path(w.recDir, c.UUID, c.StartedAt)
		orig, _ := os.ReadFile(path)
		os.WriteFile(path, orig[:100], 0o600)
		defer os.WriteFile(path, orig, 0o600)
		dir := t.TempDir()
		_, err := a.Write(ctx, filepath.Join(dir, "a.zip"), nil)
		if consent.ErrorCode(err) != consent.ECONFLICT || !strings.Contains(err.Error(), "run it again") {
			t.Fatalf("err = %v", err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%d entries left behind", len(ents))
		}
	})
	t.Run("OKSymlinkNotFollowed", func(t *testing.T) {
		path := recordings.Path(w.recDir, c.UUID, c.StartedAt)
		secret := filepath.Join(t.TempDir(), "secret")
		os.WriteFile(secret, []byte("not a recording of this caller"), 0o600)
		orig, _ := os.ReadFile(path)
		os.Remove(path)
		os.Symlink(secret, path)
		defer func() { os.Remove(path); os.WriteFile(path, orig, 0o600) }()
		a, err := export.Prepare(ctx, w.sources(), export.Request{CallerPseudonym: me, By: "so", Now: w.now})
		if err != nil {
			t.Fatal(err)
		}
		if s := a.Summary(); s.Recordings != 0 || a.Manifest.Calls[0].Recording.Note == "" {
			t.Fatalf("a link planted as the recording went in: %+v", s)
		}
	})
}

// TestDSAR_Period: one archive holds a bounded number of calls; a caller with more is told to
// ask per period, and a period's archive holds that period's calls and says which it is.
func TestDSAR_Period(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	me := strings.Repeat("ab", 32)
	var calls []*consent.Call
	for range 4 {
		calls = append(calls, w.call(me, consent.DecisionDeclined, "2026-11-26.1", -1))
	}
	_, err := export.Prepare(ctx, w.sources(), export.Request{CallerPseudonym: me, By: "so", Now: w.now, MaxCalls: 3})
	if consent.ErrorCode(err) != consent.ECONFLICT || !strings.Contains(err.Error(), "--since and --until") {
		t.Fatalf("4 calls, at most 3: %v", err)
	}
	a, err := export.Prepare(ctx, w.sources(), export.Request{CallerPseudonym: me, By: "so", Now: w.now, MaxCalls: 3,
		Since: calls[1].StartedAt, Until: calls[3].StartedAt})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Manifest.Calls; len(got) != 2 || got[0].UUID != calls[2].UUID || got[1].UUID != calls[1].UUID {
		t.Fatalf("calls of the period: %+v", got)
	}
	out := filepath.Join(t.TempDir(), "a.zip")
	if _, err := a.Write(ctx, out, nil); err != nil {
		t.Fatal(err)
	}
	files := readArchive(t, out)
	validateManifest(t, files["manifest.json"])
	if m := decodeManifest(t, files["manifest.json"]); m.Since == nil || !m.Since.Equal(calls[1].StartedAt) || !m.Until.Equal(calls[3].StartedAt) {
		t.Errorf("period in the manifest: %v - %v", m.Since, m.Until)
	}
}
