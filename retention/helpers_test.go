package retention_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/consent/sqlite/sqlitetest"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/retention"
)

// clock is a fake wall clock with a monotonic clock beside it. Advance moves both; Set moves
// the wall clock alone, as an administrator or a broken NTP would.
type clock struct {
	mu   sync.Mutex
	wall time.Time
	mono time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

func (c *clock) Mono() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall, c.mono = c.wall.Add(d), c.mono+d
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = t
}

// env is one test's world: a real SQLite file, a real recordings folder and a sweeper, all on
// one fake clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	clock *clock
	db    *sqlite.DB
	dir   string // recordings folder
	sw    *retention.Sweeper
	seq   int
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, p retention.Policy) *env {
	t.Helper()
	base := t.TempDir()
	e := &env{t: t, ctx: context.Background(), clock: &clock{wall: t0}, dir: filepath.Join(base, "rec")}
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	e.db = sqlite.NewDB(filepath.Join(base, "db", "callconsent.db"))
	e.db.Now = e.clock.Now
	if err := e.db.Open(e.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	e.sw = e.newSweeper(p)
	if err := e.sw.Open(e.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.sw.Close() })
	return e
}

func (e *env) newSweeper(p retention.Policy) *retention.Sweeper {
	sw := retention.NewSweeper(e.db, e.dir, p, e.clock.Now, testLogger(e.t))
	sw.Monotonic = e.clock.Mono
	return sw
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

var pseudonyms, _ = consent.NewPseudonymizer(make([]byte, consent.KeySize))

// uuid returns a new call UUID, distinct within the test.
func (e *env) uuid() string {
	e.seq++
	return consentUUID(e.seq)
}

func consentUUID(n int) string {
	return "c0ffee00-0000-4000-8000-" + leftPad(n)
}

func leftPad(n int) string {
	s := []byte("000000000000")
	for i := len(s) - 1; n > 0 && i >= 0; i-- {
		s[i] = byte('0' + n%10)
		n /= 10
	}
	return string(s)
}

// call stores a call started at the given time with a decision; granted calls get a proof.
func (e *env) call(uuid, number string, at time.Time, d consent.Decision) {
	e.t.Helper()
	c := &consent.Call{UUID: uuid, CallerPseudonym: pseudonyms.Pseudonym(number), StartedAt: at}
	if err := e.db.CreateCall(e.ctx, c); err != nil {
		e.t.Fatal(err)
	}
	var p *consent.Proof
	if d == consent.DecisionGranted {
		p = grantProof(at)
	}
	if d != consent.DecisionPending {
		if err := e.db.DecideCall(e.ctx, uuid, d, p); err != nil {
			e.t.Fatal(err)
		}
	}
}

// grant stores a call started at the given time with a grant and its pending recording at path,
// as the flow does.
func (e *env) grant(uuid, number string, at time.Time, path string) {
	e.t.Helper()
	e.call(uuid, number, at, consent.DecisionPending)
	if err := e.db.Grant(e.ctx, uuid, grantProof(at), &consent.Recording{CallUUID: uuid, Path: path, StartedAt: at}); err != nil {
		e.t.Fatal(err)
	}
}

// grantProof is the proof of a grant at at.
func grantProof(at time.Time) *consent.Proof {
	return &consent.Proof{DecidedAt: at, Digit: "1", Tries: 1, NoticeVersion: "v1", NoticeSHA256: "00", Language: "nb"}
}

// recording stores a granted call with a recording in state to (complete or failed) and
// writes its file of the given size; it returns the file's path.
func (e *env) recording(uuid, number string, at time.Time, to consent.RecordingState, size int) string {
	e.t.Helper()
	path := recordings.Path(e.dir, uuid, at)
	e.grant(uuid, number, at, path)
	e.file(path, size, at)
	if to == consent.RecordingComplete {
		if err := e.db.UpdateRecording(e.ctx, uuid, consent.RecordingRecording, consent.RecordingUpdate{}); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.db.UpdateRecording(e.ctx, uuid, to, consent.RecordingUpdate{EndedAt: at.Add(time.Minute), Bytes: int64(size)}); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// file writes a file of size bytes with the given mtime, creating its folders.
func (e *env) file(path string, size int, mtime time.Time) {
	e.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) sweep(o retention.Options) retention.Report {
	e.t.Helper()
	rep, err := e.sw.Sweep(e.ctx, o)
	if err != nil {
		e.t.Fatalf("sweep: %v", err)
	}
	return rep
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

// tombstones returns the tombstones by path.
func (e *env) tombstones() map[string][]*consent.Tombstone {
	e.t.Helper()
	out := map[string][]*consent.Tombstone{}
	for _, t := range sqlitetest.Tombstones(e.t, e.db.Path()) {
		out[t.Path] = append(out[t.Path], t)
	}
	return out
}

func (e *env) state(uuid string) consent.RecordingState {
	e.t.Helper()
	c, err := e.db.FindCall(e.ctx, uuid)
	if consent.ErrorCode(err) == consent.ENOTFOUND {
		return "purged" // call metadata past retention is deleted with its recording row
	} else if err != nil {
		e.t.Fatal(err)
	}
	if c.Recording == nil {
		return ""
	}
	return c.Recording.State
}

const day = 24 * time.Hour
