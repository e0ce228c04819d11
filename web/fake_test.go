package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings/recordingstest"
)

// backend stands in for the access service in the console's own tests: it answers from
// fixed data and records what the pages asked. The rules themselves are the access service's
// and are tested there and through the whole daemon (cmd/callconsent's browser tests); here
// only the pages' side is: what they pass on and how they show the answer.
type backend struct {
	mu       sync.Mutex
	sessions map[string]Session
	calls    []*consent.Call
	audio    string
	listens  int
	searches []Query
	changes  []string
	locked   string
}

func newBackend(t testing.TB) *backend {
	audio := filepath.Join(t.TempDir(), "a.wav")
	if err := os.WriteFile(audio, recordingstest.WAV(2, 8000, 16, 8000*4*3, -1), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC)
	call := &consent.Call{UUID: "0b1c2d3e-0000-4000-8000-000000000001", CallerPseudonym: strings.Repeat("ab", 32), Language: "nb",
		StartedAt: at, Decision: consent.DecisionGranted, EndedAt: at.Add(time.Minute),
		Proof:     &consent.Proof{DecidedAt: at.Add(5 * time.Second), Digit: "1", Tries: 1, NoticeVersion: "2026-11-26.1", NoticeSHA256: strings.Repeat("c", 64), Language: "nb", HeardMS: 4200},
		Recording: &consent.Recording{CallUUID: "0b1c2d3e-0000-4000-8000-000000000001", Path: audio, State: consent.RecordingComplete, StartedAt: at.Add(6 * time.Second), EndedAt: at.Add(time.Minute), DurationMS: 3000, Bytes: 96044}}
	return &backend{sessions: map[string]Session{}, calls: []*consent.Call{call}, audio: audio}
}

const (
	officerPassword = "officer-password-1"
	managerPassword = "manager-password-1"
	resetPassword   = "given-by-the-officer" // user "reset"'s: it opens no session
)

func (b *backend) Login(_ context.Context, user, password string) (Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if user == b.locked {
		return Session{}, &Error{Kind: KindLocked, Message: LoginLocked}
	}
	if user == "throttled" {
		return Session{}, &Error{Kind: KindLocked, Message: LoginThrottled}
	}
	if user == "reset" {
		return Session{}, &Error{Kind: KindLocked, Message: LoginMustChange}
	}
	var role Role
	switch {
	case user == "olga" && password == officerPassword:
		role = RoleOfficer
	case user == "mona" && password == managerPassword:
		role = RoleManager
	default:
		return Session{}, &Error{Kind: KindDenied, Message: "wrong user name or password"}
	}
	return b.newSession(user, role), nil
}

func (b *backend) newSession(user string, role Role) Session {
	id := make([]byte, 16)
	rand.Read(id)
	s := Session{ID: hex.EncodeToString(id), User: user, Role: role}
	b.sessions[s.ID] = s
	return s
}

// ChangePassword knows mona's and reset's current passwords, ends the user's sessions and
// starts one; the rules on the new one are the access service's (a short one stands for them).
func (b *backend) ChangePassword(_ context.Context, user, current, next string) (Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if user == "throttled" {
		return Session{}, &Error{Kind: KindLocked, Message: LoginThrottled}
	}
	if len(next) < 12 {
		return Session{}, &Error{Kind: KindInvalid, Message: "password too short: at least 12 characters"}
	}
	if !(user == "mona" && current == managerPassword || user == "reset" && current == resetPassword) {
		return Session{}, &Error{Kind: KindDenied, Message: "login failed"}
	}
	b.changes = append(b.changes, "own password "+user)
	for id, s := range b.sessions {
		if s.User == user {
			delete(b.sessions, id)
		}
	}
	return b.newSession(user, RoleManager), nil
}

func (b *backend) Resume(_ context.Context, id string) (Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.sessions[id]
	if !ok {
		return Session{}, &Error{Kind: KindExpired, Message: "session ended"}
	}
	return s, nil
}

func (b *backend) Logout(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.sessions, id)
	return nil
}

func (b *backend) expireAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.sessions)
}

func (b *backend) Purposes(context.Context, Session) ([]Purpose, error) {
	return []Purpose{{Name: "quality-assurance", Description: "checking how calls are handled"}}, nil
}

// caseErr is the access service's answer to a missing reason, as the page must show it.
func caseErr(c Case) error {
	if c.Reason == "" || c.Purpose == "" {
		return &Error{Kind: KindDenied, Message: "a purpose and a reason of a few words are required"}
	}
	return nil
}

func (b *backend) Search(_ context.Context, _ Session, c Case, q Query) ([]*consent.Call, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.searches = append(b.searches, q)
	if err := caseErr(c); err != nil {
		return nil, err
	}
	return b.calls, nil
}

func (b *backend) Call(_ context.Context, _ Session, c Case, uuid string) (*consent.Call, error) {
	if err := caseErr(c); err != nil {
		return nil, err
	}
	for _, call := range b.calls {
		if call.UUID == uuid {
			return call, nil
		}
	}
	return nil, &Error{Kind: KindNotFound, Message: "no such call"}
}

func (b *backend) Listen(ctx context.Context, s Session, c Case, uuid string) (string, error) {
	call, err := b.Call(ctx, s, c, uuid)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.listens++
	return call.Recording.Path, nil
}

func (b *backend) Playable(_ context.Context, uuid string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.calls {
		if c.UUID == uuid && !c.Withdrawn() {
			return nil
		}
	}
	return &Error{Kind: KindNotFound, Message: "gone"}
}

func (b *backend) Export(_ context.Context, _ Session, c Case, _ string, mutes []string, w io.Writer) (string, error) {
	if err := caseErr(c); err != nil {
		return "", err
	}
	_, err := io.WriteString(w, "PK"+strings.Join(mutes, ";"))
	return "training-x-1.zip", err
}

func (b *backend) change(what string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.changes = append(b.changes, what)
	return nil
}

func (b *backend) Users(context.Context, Session) ([]User, error) {
	return []User{{Name: "olga", Role: RoleOfficer}, {Name: "mona", Role: RoleManager, LockedUntil: time.Now().Add(time.Hour)}}, nil
}
func (b *backend) AddUser(_ context.Context, _ Session, u NewUser) error {
	return b.change("add " + u.Name)
}
func (b *backend) DisableUser(_ context.Context, _ Session, n, _ string) error {
	return b.change("disable " + n)
}
func (b *backend) ResetPassword(_ context.Context, _ Session, n, _ string) error {
	return b.change("passwd " + n)
}
func (b *backend) Unlock(_ context.Context, _ Session, n string) error {
	return b.change("unlock " + n)
}
func (b *backend) Grants(context.Context, Session, bool) ([]Grant, error) {
	return []Grant{{ID: "7", User: "mona", Purposes: []string{"quality-assurance"}, ExpiresAt: time.Now().Add(24 * time.Hour), GrantedBy: "olga"}}, nil
}
func (b *backend) AddGrant(_ context.Context, _ Session, g NewGrant) (string, error) {
	return "8", b.change("grant " + g.User + " " + strings.Join(g.Purposes, ",") + " " + g.ExpiresAt.Format(time.RFC3339))
}
func (b *backend) RevokeGrant(_ context.Context, _ Session, id, reason string) error {
	if reason == "" {
		return &Error{Kind: KindInvalid, Message: "a reason is required"}
	}
	return b.change("revoke " + id)
}
func (b *backend) AllPurposes(context.Context, Session) ([]PurposeRecord, error) {
	return []PurposeRecord{{Name: "quality-assurance", Description: "checking calls", ApprovedBy: "olga"}}, nil
}
func (b *backend) AddPurpose(_ context.Context, _ Session, n, _, _ string) error {
	return b.change("purpose " + n)
}
func (b *backend) RetirePurpose(_ context.Context, _ Session, n, _ string) error {
	return b.change("retire " + n)
}
func (b *backend) Audit(context.Context, Session, AuditFilter) ([]AuditEntry, error) {
	return []AuditEntry{{Seq: 1, At: time.Now(), Actor: "olga", Action: "login", Result: "ok"}}, nil
}
func (b *backend) VerifyAudit(context.Context, Session) (Verification, error) {
	return Verification{OK: true, Entries: 1, Message: "ok"}, nil
}
func (b *backend) DSAR(_ context.Context, _ Session, p, _ string, since, until time.Time, w io.Writer) (string, error) {
	period := ""
	if !since.IsZero() {
		period = " " + since.UTC().Format(time.RFC3339) + "/" + until.UTC().Format(time.RFC3339)
	}
	_, err := io.WriteString(w, "PK"+p+period)
	return "access-request.zip", err
}
func (b *backend) Withdraw(_ context.Context, _ Session, req consent.WithdrawRequest) (Withdrawal, error) {
	b.change("withdraw " + req.CallUUID + req.CallerPseudonym)
	return Withdrawal{WithdrawResult: consent.WithdrawResult{Calls: []string{"0b1c2d3e-0000-4000-8000-000000000001"}, Files: 1}}, nil
}

// testServer is a console over a backend on a real TCP port, with its log kept for greps.
type testServer struct {
	*Server
	b    *backend
	logs *bytes.Buffer
	url  string
}

func startServer(t testing.TB) *testServer {
	t.Helper()
	b := newBackend(t)
	logs := &bytes.Buffer{}
	loc, _ := time.LoadLocation("Europe/Oslo")
	s, err := New(Config{Addr: "127.0.0.1:0", Location: loc, Auth: b, Calls: b, Officer: b,
		Pseudonym: func(n string) string { return "pseudonym-of-the-number" },
		Logger:    slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &testServer{Server: s, b: b, logs: logs, url: s.URL()}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// client is a browser-like client: cookies kept, redirects not followed (the tests look at
// them), and the headers a browser sends on a same-origin form post.
func (ts *testServer) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (ts *testServer) post(t *testing.T, c *http.Client, path string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", ts.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (ts *testServer) get(t *testing.T, c *http.Client, path string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts.url+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// login signs in and returns the client holding the session.
func (ts *testServer) login(t *testing.T, user, password string) *http.Client {
	t.Helper()
	c := ts.client(t)
	resp := ts.post(t, c, "/login", url.Values{"user": {user}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %s", user, resp.Status)
	}
	return c
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
