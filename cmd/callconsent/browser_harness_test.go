package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/access/argon2id"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium headless (chromedp) against the whole daemon: the
// console on a free loopback port, the access service on the daemon's database, and real
// recordings made by the fake FreeSWITCH. One Chromium serves every test; each test gets its
// own browser context (its own cookies), as two people on two computers would.
//
// CALLCONSENT_CHROMIUM names the browser and makes the tests mandatory (CI sets it); without
// it they use `chromium` from PATH, and skip, saying so, when there is none.

func TestMain(m *testing.M) {
	code := m.Run()
	chromium.close()
	os.Exit(code)
}

var chromium sharedBrowser

type sharedBrowser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func (b *sharedBrowser) close() {
	if b.cancel != nil {
		b.cancel()
	}
}

// chromiumPath is the browser to drive, or "" (the test skips).
func chromiumPath(t *testing.T) string {
	if p := os.Getenv("CALLCONSENT_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("CALLCONSENT_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium: apt-get install chromium, or set CALLCONSENT_CHROMIUM (CI does)")
	return ""
}

// newTab returns a context of a new tab in a new browser context of the shared Chromium.
func newTab(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	chromium.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox, // root in CI
			chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
			chromedp.Flag("mute-audio", true),
			chromedp.WindowSize(1280, 900),
		)
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		chromium.err = chromedp.Do(bctx)
		chromium.ctx, chromium.cancel = bctx, func() { bcancel(); acancel() }
	})
	if chromium.err != nil {
		t.Fatalf("start Chromium: %v", chromium.err)
	}
	ctx, cancel := chromedp.NewContext(chromium.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("new tab: %v", err)
	}
	return ctx
}

// console is a daemon with its web console, people, a grant and recorded calls.
type console struct {
	*harness
	url   string
	svc   *access.Service
	clock *testClock

	officer access.Actor
	granted []*consent.Call // calls with consent and a complete recording
	grantID int64

	mu         sync.Mutex
	sessionIDs []string // every session cookie seen, to grep the logs for
}

// sessionCookie returns the console's session cookie in the tab, and notes its value.
func (c *console) sessionCookie(t *testing.T, ctx context.Context) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{c.url + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range res.Cookies {
		if k.Name == "callconsent_session" {
			c.mu.Lock()
			c.sessionIDs = append(c.sessionIDs, k.Value)
			c.mu.Unlock()
			return k
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// testClock is the access service's clock: the real time plus an offset that a test moves on,
// to wait out a lockout's delays or a session's idle timeout in no time.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

const (
	officerPW = "correct horse battery officer"
	managerPW = "correct horse battery manager"
	lockedPW  = "correct horse battery locked"
)

// startConsole starts the daemon with cheap password hashing (the parameters live in the PHC
// string; the rules are the same), bootstraps a security officer olga, adds line managers mona
// (granted quality-assurance and training until tomorrow) and lars (locked out after ten
// wrong passwords), and records calls: two with consent, one declined.
func startConsole(t *testing.T) *console {
	t.Helper()
	saved := newHasher
	newHasher = func() access.Hasher {
		p := argon2id.DefaultParams
		p.Memory, p.Iterations = 1024, 1
		return &argon2id.Hasher{Params: p}
	}
	t.Cleanup(func() { newHasher = saved })
	h := startHarness(t, fakefs.Config{})
	if h.d.web == nil {
		t.Fatal("the daemon serves no console")
	}
	c := &console{harness: h, url: h.d.web.URL(), svc: h.d.webBackend.svc, clock: &testClock{}}
	c.svc.Now = c.clock.Now
	h.d.webBackend.now = c.clock.Now
	ctx := h.ctx
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.svc.Bootstrap(ctx, access.HostActor("root"), "olga", officerPW))
	c.officer = access.Actor{Kind: access.ActorUser, Name: "olga", Role: access.RoleSecurityOfficer}
	must(c.svc.AddUser(ctx, c.officer, "mona", access.RoleLineManager, managerPW))
	must(c.svc.AddUser(ctx, c.officer, "lars", access.RoleLineManager, lockedPW))
	g, err := c.svc.AddGrant(ctx, c.officer, "mona", []string{"quality-assurance", "training"}, c.clock.Now().Add(24*time.Hour),
		"quality review of complaint calls in november")
	must(err)
	c.grantID = g.ID
	for i := 1; i <= access.LockoutFailures; i++ {
		c.svc.Login(ctx, "lars", "not the password")
		if i < access.LockoutFailures {
			c.clock.Advance(access.FailureDelay(i) + time.Second) // wait out the throttle
		}
	}
	for _, spec := range []fakefs.CallSpec{
		{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: 3 * time.Second},
		{Script: []fakefs.Step{pressAfterNotice("2")}},
		{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: 2 * time.Second, CallerIDNumber: "+4722334455"},
	} {
		res := h.call(spec)
		call := h.finalCall(res.UUID)
		if call.Recording != nil && call.Recording.State == consent.RecordingComplete {
			c.granted = append(c.granted, call)
		}
	}
	if len(c.granted) != 2 {
		t.Fatalf("%d complete recordings, want 2", len(c.granted))
	}
	return c
}

// auditCount counts the audit entries with this action and result about a call.
func (c *console) auditCount(t *testing.T, action, result, call string) int {
	t.Helper()
	n := 0
	err := c.svc.Store.Audit(c.ctx, access.AuditFilter{Action: action}, func(e access.Entry) error {
		if string(e.Result) == result && (call == "" || e.About(access.ObjectCall, call)) {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// screenshot saves the page as docs/NAME.png when CALLCONSENT_SCREENSHOTS names the folder
// (go test -run TestBrowser ./cmd/callconsent with CALLCONSENT_SCREENSHOTS=$PWD/docs).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CALLCONSENT_SCREENSHOTS")
	if dir == "" {
		return
	}
	shot := chromedp.FullScreenshot(100)
	if name == "web-audit" { // a long table: its first screen tells
		shot = chromedp.CaptureScreenshot()
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
