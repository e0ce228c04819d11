package access_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/access/argon2id"
	asqlite "github.com/callconsent/callconsent/access/sqlite"
	"github.com/callconsent/callconsent/consent"
	csqlite "github.com/callconsent/callconsent/consent/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var testKey = access.AuditKey(bytes.Repeat([]byte{9}, 32))

// cheapHasher is argon2id with 1 MiB: the PHC string carries it, and tests stay fast.
func cheapHasher() access.Hasher {
	h := argon2id.New()
	h.Params.Memory = 1024
	return h
}

type env struct {
	dir   string
	db    *csqlite.DB
	svc   *access.Service
	clock *clock
}

// open opens (or reopens) the service on dir's database, as a daemon restart would.
func open(t *testing.T, dir string, c *clock) *env {
	t.Helper()
	db := csqlite.NewDB(filepath.Join(dir, "callconsent.db"))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := access.NewService(asqlite.New(db), cheapHasher(), testKey, access.NewHeadFile(filepath.Join(dir, "audit.key.head")))
	svc.Now = c.Now
	if err := svc.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &env{dir: dir, db: db, svc: svc, clock: c}
}

func newEnv(t *testing.T) *env {
	return open(t, t.TempDir(), &clock{t: now})
}

var (
	ctx       = context.Background()
	hostRoot  = access.HostActor("root")
	officerPW = "officer password 1"
	managerPW = "manager password 2"
)

// staffed bootstraps olga (officer), adds mats (line manager) and seeds the two purposes.
func (e *env) staffed(t *testing.T) (officer, manager access.Actor) {
	t.Helper()
	if _, err := e.svc.SeedPurposes(ctx, hostRoot, []string{"training", "quality-assurance"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Bootstrap(ctx, hostRoot, "olga", officerPW); err != nil {
		t.Fatal(err)
	}
	officer, err := e.svc.Login(ctx, "olga", officerPW)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddUser(ctx, officer, "mats", access.RoleLineManager, managerPW); err != nil {
		t.Fatal(err)
	}
	manager, err = e.svc.Login(ctx, "mats", managerPW)
	if err != nil {
		t.Fatal(err)
	}
	return officer, manager
}

func (e *env) entries(t *testing.T) []access.Entry {
	t.Helper()
	var out []access.Entry
	if err := e.svc.Store.Audit(ctx, access.AuditFilter{}, func(en access.Entry) error { out = append(out, en); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) last(t *testing.T) access.Entry {
	t.Helper()
	all := e.entries(t)
	return all[len(all)-1]
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if consent.ErrorCode(err) != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func TestBootstrap(t *testing.T) {
	e := newEnv(t)
	if ok, _ := e.svc.HasOfficer(ctx); ok {
		t.Fatal("officer in a new store")
	}
	if err := e.svc.Bootstrap(ctx, access.Actor{Kind: access.ActorUser, Name: "x"}, "olga", officerPW); err == nil {
		t.Fatal("bootstrap by a non-host actor")
	}
	if err := e.svc.Bootstrap(ctx, hostRoot, "olga", officerPW); err != nil {
		t.Fatal(err)
	}
	if en := e.last(t); en.Action != "user.bootstrap" || en.Actor != "root" || en.ActorKind != access.ActorHost || !en.About(access.ObjectUser, "olga") {
		t.Fatalf("bootstrap entry = %+v", en)
	}
	// Once an officer exists, the host can no longer add one without logging in.
	wantCode(t, e.svc.Bootstrap(ctx, hostRoot, "eve", "a strong passphrase"), consent.ECONFLICT)
	if en := e.last(t); en.Result != access.ResultDenied || en.Action != "user.bootstrap" {
		t.Fatalf("refused bootstrap not audited: %+v", en)
	}
	wantCode(t, e.svc.AddUser(ctx, hostRoot, "eve", access.RoleSecurityOfficer, "a strong passphrase"), consent.ECONFLICT)
	if en := e.last(t); en.Result != access.ResultDenied || en.Action != "user.add" {
		t.Fatalf("denied add not audited: %+v", en)
	}
}

func TestLogin_SameReplyAndAudit(t *testing.T) {
	e := newEnv(t)
	e.staffed(t)
	_, errUnknown := e.svc.Login(ctx, "nobody", managerPW)
	_, errWrong := e.svc.Login(ctx, "mats", "wrong password here")
	if errUnknown == nil || errUnknown.Error() != errWrong.Error() || errUnknown != access.ErrLoginFailed {
		t.Fatalf("replies differ: %v / %v", errUnknown, errWrong)
	}
	all := e.entries(t)
	unknown, wrong := all[len(all)-2], all[len(all)-1]
	if unknown.Action != "login.failed" || unknown.Actor != "" || unknown.Detail != "unknown user" {
		t.Fatalf("unknown-user entry = %+v (the typed name must not be kept)", unknown)
	}
	if wrong.Action != "login.failed" || wrong.Actor != "mats" || wrong.Detail != "wrong password" {
		t.Fatalf("wrong-password entry = %+v", wrong)
	}
	// No password and no hash in any entry.
	for _, en := range all {
		s := strings.ToLower(en.Reason + en.Detail + en.Actor + en.Purpose)
		for _, secret := range []string{officerPW, managerPW, "wrong password here", "$argon2id"} {
			if strings.Contains(s, secret) {
				t.Fatalf("entry %d holds a secret: %+v", en.Seq, en)
			}
		}
	}
}

// TestLogin_ThrottleAcrossReopen: failed logins grow the wait, lock the account at the tenth,
// and a restart (reopen) keeps both; time or an officer's unlock releases it.
func TestLogin_ThrottleAcrossReopen(t *testing.T) {
	dir, c := t.TempDir(), &clock{t: now}
	e := open(t, dir, c)
	officer, _ := e.staffed(t)
	for i := 1; i <= 3; i++ {
		if _, err := e.svc.Login(ctx, "mats", "bad password number"); err == nil {
			t.Fatal("bad password accepted")
		}
	}
	// Throttled for 2 s after the third failure: even the right password is refused.
	if _, err := e.svc.Login(ctx, "mats", managerPW); err == nil {
		t.Fatal("login while throttled")
	}
	if en := e.last(t); !strings.Contains(en.Detail, "throttled") {
		t.Fatalf("throttled attempt entry = %+v", en)
	}
	e.db.Close()
	e = open(t, dir, c) // restart
	if _, err := e.svc.Login(ctx, "mats", managerPW); err == nil {
		t.Fatal("restart released the throttle")
	}
	c.Add(2 * time.Second)
	if _, err := e.svc.Login(ctx, "mats", managerPW); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
	// Ten failures in a row (waiting out each delay) lock the account for an hour.
	for i := 1; i <= access.LockoutFailures; i++ {
		c.Add(access.FailureDelay(i - 1))
		if _, err := e.svc.Login(ctx, "mats", "bad password number"); err == nil {
			t.Fatal("bad password accepted")
		}
	}
	if en := e.last(t); !strings.Contains(en.Detail, "locked until") {
		t.Fatalf("lockout entry = %+v", en)
	}
	e.db.Close()
	e = open(t, dir, c)
	c.Add(30 * time.Minute)
	if _, err := e.svc.Login(ctx, "mats", managerPW); err == nil {
		t.Fatal("locked account logged in after a restart")
	}
	officer, _ = e.svc.Login(ctx, "olga", officerPW)
	if err := e.svc.UnlockUser(ctx, officer, "mats"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Login(ctx, "mats", managerPW); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	// Lock again; released by time alone.
	for i := 1; i <= access.LockoutFailures; i++ {
		c.Add(access.FailureDelay(i - 1))
		e.svc.Login(ctx, "mats", "bad password number")
	}
	c.Add(access.LockoutDuration)
	if _, err := e.svc.Login(ctx, "mats", managerPW); err != nil {
		t.Fatalf("after the lockout expired: %v", err)
	}
}

func TestPurposes_Seeding(t *testing.T) {
	dir, c := t.TempDir(), &clock{t: now}
	e := open(t, dir, c)
	seeded, err := e.svc.SeedPurposes(ctx, hostRoot, []string{"training", "quality-assurance"})
	if err != nil || !seeded {
		t.Fatalf("seed: %v %v", seeded, err)
	}
	ps, _ := e.svc.Purposes(ctx)
	if len(ps) != 2 || ps[0].Name != "quality-assurance" || ps[0].ApprovedBy != "host:root" || !ps[0].ApprovedAt.Equal(now) {
		t.Fatalf("purposes = %+v", ps)
	}
	// The key seeds only an empty store: a changed key later changes nothing.
	e.db.Close()
	e = open(t, dir, c)
	if seeded, err := e.svc.SeedPurposes(ctx, hostRoot, []string{"marketing"}); err != nil || seeded {
		t.Fatalf("second seed: %v %v", seeded, err)
	}
	officer, _ := e.staffed(t)
	if err := e.svc.AddPurpose(ctx, officer, "complaints", "handling customer complaints", "approved by the board on 2026-11-01"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.AddPurpose(ctx, officer, "complaints2", "x y z", "qa"), consent.ECONFLICT)
	if err := e.svc.RetirePurpose(ctx, officer, "training", "training moved to recorded role play"); err != nil {
		t.Fatal(err)
	}
	ps, _ = e.svc.Purposes(ctx)
	names := ""
	for _, p := range ps {
		names += p.Name + map[bool]string{true: "+", false: "-"}[p.Active()] + " "
	}
	if names != "complaints+ quality-assurance+ training- " {
		t.Fatalf("purposes = %s", names)
	}
	_, manager := access.Actor{}, access.Actor{Kind: access.ActorUser, Name: "mats", Role: access.RoleLineManager}
	wantCode(t, e.svc.AddPurpose(ctx, manager, "spying", "listening for fun", "because I would like to"), consent.ECONFLICT)
	if en := e.last(t); en.Result != access.ResultDenied || en.Action != "purpose.add" || en.Actor != "mats" {
		t.Fatalf("denied purpose change = %+v", en)
	}
}

// countingHasher counts Verify calls: an unknown name must cost the same hash as a known one.
type countingHasher struct {
	access.Hasher
	verifies int
}

func (h *countingHasher) Verify(pw, phc string) (bool, error) {
	h.verifies++
	return h.Hasher.Verify(pw, phc)
}

func TestLogin_SameWork(t *testing.T) {
	e := newEnv(t)
	e.staffed(t)
	h := &countingHasher{Hasher: e.svc.Hasher}
	e.svc.Hasher = h
	for _, name := range []string{"nobody", "mats", "Not A Name!"} {
		h.verifies = 0
		e.svc.Login(ctx, name, "wrong password here")
		if h.verifies != 1 {
			t.Errorf("login as %q verified %d hashes, want 1", name, h.verifies)
		}
	}
}

// probeHasher checks, while it verifies, that the database's writer is free (no login holds a
// transaction over a hash) and counts the hashes under way.
type probeHasher struct {
	access.Hasher
	store    access.Store
	mu       sync.Mutex
	now, max int
	blocked  error
}

func (h *probeHasher) Verify(pw, phc string) (bool, error) {
	h.mu.Lock()
	h.now++
	h.max = max(h.max, h.now)
	h.mu.Unlock()
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	err := h.store.Update(c, func(access.Tx) error { return nil })
	cancel()
	time.Sleep(30 * time.Millisecond)
	h.mu.Lock()
	h.now--
	if err != nil {
		h.blocked = err
	}
	h.mu.Unlock()
	return h.Hasher.Verify(pw, phc)
}

// TestLogin_HashOutsideTransactionAndBounded: a login's hash runs outside any transaction (calls'
// decisions wait for the one writer), and at most MaxHashing run at once.
func TestLogin_HashOutsideTransactionAndBounded(t *testing.T) {
	e := newEnv(t)
	e.staffed(t)
	h := &probeHasher{Hasher: e.svc.Hasher, store: e.svc.Store}
	e.svc.Hasher = h
	var wg sync.WaitGroup
	for i := 0; i < 3*access.MaxHashing; i++ {
		wg.Go(func() { e.svc.Login(ctx, []string{"mats", "nobody"}[i%2], "wrong password here") })
	}
	wg.Wait()
	if h.blocked != nil {
		t.Fatalf("a write waited for a login's hash: %v", h.blocked)
	}
	if h.max > access.MaxHashing || h.max < 2 {
		t.Fatalf("%d hashes at once, want 2..%d", h.max, access.MaxHashing)
	}
}

// TestAuditTextCleaned: a refused request's purpose and reason reach the log without terminal
// escapes or line breaks, and clipped (a denied entry is built from raw input like any other).
func TestAuditTextCleaned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reason := "x\n99  2026-11-30 10:00:00  kari  listen  ok" + strings.Repeat("y", 128<<10)
	_, err := e.svc.Authorize(ctx, access.HostActor("root"), access.Request{Action: access.ActionSearch, Purpose: "qa\x1b[2J", Reason: reason})
	if consent.ErrorCode(err) != consent.ECONFLICT {
		t.Fatalf("search by the host: %v", err)
	}
	var got []access.Entry
	if err := e.svc.Store.Audit(ctx, access.AuditFilter{Action: "search"}, func(en access.Entry) error { got = append(got, en); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Result != access.ResultDenied {
		t.Fatalf("entries: %+v", got)
	}
	en := got[0]
	if strings.ContainsAny(en.Purpose+en.Reason+en.Detail, "\x1b\n\r") || len(en.Reason) > access.MaxAuditText || en.Purpose != "qa\uFFFD[2J" {
		t.Errorf("stored raw: purpose %q, reason %d bytes %q", en.Purpose, len(en.Reason), en.Reason[:min(len(en.Reason), 60)])
	}
	if rep, err := e.svc.Verify(ctx, access.HostActor("root")); err != nil || !rep.OK() {
		t.Errorf("verify: %+v %v", rep, err)
	}
}

// TestUnlockByHost: every officer locked out is not the end: the host account unlocks one
// (audited as the host), and may still do nothing else with users; a line manager may not unlock.
func TestUnlockByHost(t *testing.T) {
	e := newEnv(t)
	officer, manager := e.staffed(t)
	for range access.LockoutFailures {
		e.svc.Login(ctx, officer.Name, "not the password at all")
	}
	if _, err := e.svc.Login(ctx, officer.Name, officerPW); err == nil {
		t.Fatal("a locked officer logged in")
	}
	if err := e.svc.UnlockUser(ctx, manager, officer.Name); consent.ErrorCode(err) != consent.ECONFLICT {
		t.Fatalf("a line manager unlocked: %v", err)
	}
	if err := e.svc.UnlockUser(ctx, hostRoot, officer.Name); err != nil {
		t.Fatalf("host unlock: %v", err)
	}
	if _, err := e.svc.Login(ctx, officer.Name, officerPW); err != nil {
		t.Fatalf("login after the unlock: %v", err)
	}
	if err := e.svc.DisableUser(ctx, hostRoot, manager.Name, "the host tries to disable a user"); consent.ErrorCode(err) != consent.ECONFLICT {
		t.Fatalf("the host disabled a user: %v", err)
	}
	var unlocks []access.Entry
	e.svc.Store.Audit(ctx, access.AuditFilter{Action: "user.unlock"}, func(en access.Entry) error { unlocks = append(unlocks, en); return nil })
	if len(unlocks) != 2 || unlocks[1].ActorKind != access.ActorHost || unlocks[1].Result != access.ResultOK || !unlocks[1].About(access.ObjectUser, officer.Name) {
		t.Fatalf("unlock entries: %+v", unlocks)
	}
}

// TestPasswordResetSingleUse: an officer who resets a line manager's password cannot log in as
// them and listen in their name: the reset password allows only the user's own change; after
// it, the user works as before.
func TestPasswordResetSingleUse(t *testing.T) {
	e := newEnv(t)
	officer, _ := e.staffed(t)
	if _, err := e.svc.AddGrant(ctx, officer, "mats", []string{"quality-assurance"}, now.Add(24*time.Hour), "quality review of the Oslo team"); err != nil {
		t.Fatal(err)
	}
	const reset = "the officer knows this one"
	if err := e.svc.SetPassword(ctx, officer, "mats", reset); err != nil {
		t.Fatal(err)
	}
	asMats, err := e.svc.Login(ctx, "mats", reset)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authorize(ctx, asMats, access.Request{Action: access.ActionListen, Purpose: "quality-assurance", Reason: goodReason})
	if consent.ErrorCode(err) != consent.ECONFLICT || !strings.Contains(err.Error(), "set your own first") {
		t.Fatalf("listen with a reset password: %v", err)
	}
	if err := e.svc.SetPassword(ctx, asMats, "mats", reset); consent.ErrorCode(err) != consent.EINVALID {
		t.Fatalf("keeping the reset password as one's own: %v", err)
	}
	if err := e.svc.SetPassword(ctx, asMats, "mats", "only he knows this one"); err != nil {
		t.Fatalf("own change with the reset password: %v", err)
	}
	if _, err := e.svc.Login(ctx, "mats", reset); err == nil {
		t.Fatal("the reset password still works")
	}
	asMats, err = e.svc.Login(ctx, "mats", "only he knows this one")
	if err != nil {
		t.Fatal(err)
	}
	acc, err := e.svc.Authorize(ctx, asMats, access.Request{Action: access.ActionListen, Purpose: "quality-assurance", Reason: goodReason})
	if err != nil {
		t.Fatalf("listen after the own change: %v", err)
	}
	acc.Done(ctx, nil, "")
}

// TestChangeOwnPassword: a user replaces a password an officer set without the host: the
// current one is checked as a login is (same throttle, counted with the logins), the new one
// keeps the rules and differs from it, the change ends the user's sessions and is audited as
// user.passwd by the user.
func TestChangeOwnPassword(t *testing.T) {
	e := newEnv(t)
	officer, _ := e.staffed(t)
	const reset = "the officer knows this one"
	tok, _, err := e.svc.StartSession(ctx, "mats", managerPW)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetPassword(ctx, officer, "mats", reset); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, current, next string }{
		{"too short", reset, "short one"},
		{"holds the name", reset, "mats has a long password"},
		{"the reset one kept", reset, reset},
	} {
		if _, err := e.svc.ChangeOwnPassword(ctx, "mats", tt.current, tt.next); consent.ErrorCode(err) != consent.EINVALID {
			t.Errorf("%s: %v, want EINVALID", tt.name, err)
		}
	}
	// A wrong current password counts as a failed login: the third makes the next wait.
	for i := 1; i <= access.FreeFailures; i++ {
		if _, err := e.svc.ChangeOwnPassword(ctx, "mats", "not the current one", "only he knows this one"); err != access.ErrLoginFailed {
			t.Fatalf("wrong current password %d: %v", i, err)
		}
	}
	if en := e.last(t); en.Action != "user.passwd" || en.Result != access.ResultDenied || !strings.Contains(en.Detail, "wrong password") {
		t.Fatalf("wrong current password audited as %+v", en)
	}
	if _, err := e.svc.ChangeOwnPassword(ctx, "mats", reset, "only he knows this one"); err != access.ErrLoginFailed {
		t.Fatalf("while throttled, the right current password: %v", err)
	}
	if _, err := e.svc.Login(ctx, "mats", reset); err != access.ErrLoginFailed {
		t.Fatal("the failed changes did not throttle the logins")
	}
	e.clock.Add(access.FailureDelay(access.FreeFailures) + time.Second)
	if _, err := e.svc.ChangeOwnPassword(ctx, "nobody", reset, "only he knows this one"); err != access.ErrLoginFailed {
		t.Fatalf("unknown user: %v", err)
	}
	if en := e.last(t); en.Actor != "" || en.Detail != "unknown user" {
		t.Fatalf("unknown user audited as %+v", en)
	}
	mats, err := e.svc.ChangeOwnPassword(ctx, "mats", reset, "only he knows this one")
	if err != nil || mats.Name != "mats" || mats.Role != access.RoleLineManager {
		t.Fatalf("own change: %+v %v", mats, err)
	}
	if en := e.last(t); en.Action != "user.passwd" || en.Actor != "mats" || en.Result != access.ResultOK || !en.About(access.ObjectUser, "mats") {
		t.Fatalf("own change audited as %+v", en)
	}
	if _, err := e.svc.Session(ctx, tok); err != access.ErrNoSession {
		t.Fatal("a session outlived the change")
	}
	if _, err := e.svc.Login(ctx, "mats", reset); err == nil {
		t.Fatal("the reset password still works")
	}
	tok, _, err = e.svc.StartSession(ctx, "mats", "only he knows this one")
	if err != nil {
		t.Fatalf("a session after the own change: %v", err)
	}
	// The own change of a user who chose their own: their sessions end too.
	if _, err := e.svc.ChangeOwnPassword(ctx, "mats", "only he knows this one", "and now another one"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Session(ctx, tok); err != access.ErrNoSession {
		t.Fatal("a session outlived the second change")
	}
	var u access.User
	e.svc.Store.View(ctx, func(tx access.Tx) error { u, err = tx.User("mats"); return err })
	if err != nil || u.MustChangePassword || u.FailedLogins != 0 {
		t.Fatalf("after the change: must change %v, failures %d, %v", u.MustChangePassword, u.FailedLogins, err)
	}
}
