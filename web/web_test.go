package web

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Every response carries the security headers; pages no browser or proxy may keep say so.
func TestHeaders(t *testing.T) {
	ts := startServer(t)
	mgr := ts.login(t, "mona", managerPassword)
	for _, tt := range []struct {
		name  string
		resp  *http.Response
		cache string
	}{
		{"login page", ts.get(t, ts.client(t), "/login"), "no-store"},
		{"search page", ts.get(t, mgr, "/search"), "no-store"},
		{"results", ts.post(t, mgr, "/search", url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 42 complaint check"}}), "no-store"},
		{"asset", ts.get(t, ts.client(t), "/assets/app.css"), "no-cache"},
		{"not found", ts.get(t, ts.client(t), "/nothing-here"), "no-store"},
	} {
		h := tt.resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", tt.name, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: Content-Security-Policy allows inline code: %q", tt.name, csp)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
			"X-Frame-Options": "DENY", "Cache-Control": tt.cache} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, got, want)
			}
		}
	}
}

// No page holds inline script or style: the Content-Security-Policy would block it, so a page
// that had one would be broken.
func TestNoInlineScript(t *testing.T) {
	ts := startServer(t)
	mgr, off := ts.login(t, "mona", managerPassword), ts.login(t, "olga", officerPassword)
	inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|\sstyle=|\son[a-z]+=`)
	pages := map[string]string{
		"login":  body(t, ts.get(t, ts.client(t), "/login")),
		"search": body(t, ts.post(t, mgr, "/search", url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 42 check"}})),
		"call":   body(t, ts.post(t, mgr, "/calls/0b1c2d3e-0000-4000-8000-000000000001/listen", url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 42 check"}})),
		"export": body(t, ts.post(t, mgr, "/calls/0b1c2d3e-0000-4000-8000-000000000001/export-form", url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 42 check"}})),
	}
	for _, p := range []string{"/users", "/grants", "/purposes", "/audit", "/dsar", "/withdraw", "/password"} {
		pages[p] = body(t, ts.get(t, off, p))
	}
	pages["reset"] = body(t, ts.post(t, ts.client(t), "/login", url.Values{"user": {"reset"}, "password": {resetPassword}}))
	for name, html := range pages {
		if m := inline.FindString(html); m != "" {
			t.Errorf("%s: inline code %q", name, m)
		}
		if !strings.Contains(html, `<script src="/assets/app.js" defer></script>`) {
			t.Errorf("%s: no script file", name)
		}
	}
}

// Every page that shows personal data needs a session, and the role it is for.
func TestPagesNeedSessionAndRole(t *testing.T) {
	ts := startServer(t)
	mgr, off := ts.login(t, "mona", managerPassword), ts.login(t, "olga", officerPassword)
	managerPages := []struct{ method, path string }{
		{"GET", "/search"}, {"POST", "/search"}, {"POST", "/calls/0b1c2d3e-0000-4000-8000-000000000001"},
		{"POST", "/calls/0b1c2d3e-0000-4000-8000-000000000001/listen"}, {"GET", "/audio/sometoken"},
		{"POST", "/calls/0b1c2d3e-0000-4000-8000-000000000001/export-form"}, {"POST", "/calls/0b1c2d3e-0000-4000-8000-000000000001/export"},
	}
	officerPages := []struct{ method, path string }{
		{"GET", "/users"}, {"POST", "/users"}, {"POST", "/users/mona/disable"}, {"POST", "/users/mona/password"},
		{"POST", "/users/mona/unlock"}, {"GET", "/grants"}, {"POST", "/grants"}, {"POST", "/grants/7/revoke"},
		{"GET", "/purposes"}, {"POST", "/purposes"}, {"POST", "/purposes/training/retire"}, {"GET", "/audit"},
		{"GET", "/dsar"}, {"POST", "/dsar"}, {"GET", "/withdraw"}, {"POST", "/withdraw"},
	}
	do := func(c *http.Client, method, path string) *http.Response {
		if method == "GET" {
			return ts.get(t, c, path)
		}
		return ts.post(t, c, path, url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 1 check"}, "number": {"+47 912 34 567"}})
	}
	check := func(pages []struct{ method, path string }, other *http.Client) {
		for _, p := range pages {
			resp := do(ts.client(t), p.method, p.path)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Errorf("%s %s without a session: %s to %q, want 303 to /login", p.method, p.path, resp.Status, resp.Header.Get("Location"))
			}
			if resp := do(other, p.method, p.path); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with the other role: %s, want 403", p.method, p.path, resp.Status)
			}
		}
	}
	check(managerPages, off)
	check(officerPages, mgr)
	if len(ts.b.searches) != 0 || len(ts.b.changes) != 0 || ts.b.listens != 0 {
		t.Errorf("refused requests reached the service: searches %v, changes %v, listens %d", ts.b.searches, ts.b.changes, ts.b.listens)
	}
}

// A state change asked for by another site's page is refused, and nothing reaches the service.
func TestCrossOriginRefused(t *testing.T) {
	ts := startServer(t)
	off := ts.login(t, "olga", officerPassword)
	for name, hdr := range map[string][2]string{
		"other site":      {"https://evil.example", "cross-site"},
		"same site, port": {"http://127.0.0.1:1", "same-site"},
		"origin only":     {"https://evil.example", ""},
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.url+"/users/mona/disable", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", hdr[0])
		if hdr[1] != "" {
			req.Header.Set("Sec-Fetch-Site", hdr[1])
		}
		resp, err := off.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := body(t, resp)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "another web page") && !strings.Contains(b, "annen nettside") {
			t.Errorf("%s: %s, want 403 with the refusal in words", name, resp.Status)
		}
	}
	if len(ts.b.changes) != 0 {
		t.Fatalf("a cross-origin request changed something: %v", ts.b.changes)
	}
	if resp := ts.post(t, off, "/users/mona/disable", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin post: %s", resp.Status)
	}
}

// Login: the cookie is HttpOnly and SameSite=Strict; a wrong password and an unknown user get
// the same answer; a locked account is told so; an ended session goes back to the login page.
func TestLogin(t *testing.T) {
	ts := startServer(t)
	c := ts.client(t)
	resp := ts.post(t, c, "/login", url.Values{"user": {"mona"}, "password": {managerPassword}})
	var sc *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "callconsent_session" {
			sc = k
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/" {
		t.Fatalf("session cookie %+v", sc)
	}
	wrong := body(t, ts.post(t, ts.client(t), "/login", url.Values{"user": {"mona"}, "password": {"nope"}}))
	unknown := body(t, ts.post(t, ts.client(t), "/login", url.Values{"user": {"nobody"}, "password": {"nope"}}))
	if !strings.Contains(wrong, "Feil brukernavn eller passord") || strings.ReplaceAll(unknown, "nobody", "mona") != wrong {
		t.Errorf("wrong password and unknown user answered differently")
	}
	ts.b.locked = "mona"
	locked := ts.post(t, ts.client(t), "/login", url.Values{"user": {"mona"}, "password": {managerPassword}})
	if locked.StatusCode != http.StatusForbidden || !strings.Contains(body(t, locked), "låst") {
		t.Errorf("locked: %s", locked.Status)
	}
	if resp := ts.post(t, ts.client(t), "/login", url.Values{"user": {"throttled"}, "password": {"x"}}); resp.StatusCode != http.StatusTooManyRequests ||
		!strings.Contains(body(t, resp), "vent et minutt") {
		t.Errorf("throttled: %s", resp.Status)
	}
	// A password a security officer set opens no session: the user sets their own first.
	if resp := ts.post(t, ts.client(t), "/login", url.Values{"user": {"reset"}, "password": {resetPassword}}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(body(t, resp), `action="/password/new"`) || len(resp.Cookies()) != 0 {
		t.Errorf("reset password: %s, want 403, the form to set one's own and no cookie", resp.Status)
	}
	ts.b.expireAll()
	resp = ts.get(t, c, "/search")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?expired=1&next=%2Fsearch" {
		t.Fatalf("ended session: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	if !strings.Contains(body(t, ts.get(t, c, "/login?expired=1")), "Økten er avsluttet") {
		t.Error("the login page does not say the session ended")
	}
	if strings.Contains(ts.logs.String(), managerPassword) || strings.Contains(ts.logs.String(), sc.Value) {
		t.Errorf("the log holds a password or a session id:\n%s", ts.logs.String())
	}
}

// A search refused by the access service shows why and no result; the caller's number goes to
// the service only as its pseudonym and into no log line.
func TestSearch(t *testing.T) {
	ts := startServer(t)
	mgr := ts.login(t, "mona", managerPassword)
	resp := ts.post(t, mgr, "/search", url.Values{"purpose": {"quality-assurance"}, "reason": {""}, "number": {"+47 912 34 567"}})
	b := body(t, resp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "a reason of a few words are required") || strings.Contains(b, `id="results"`) {
		t.Fatalf("search without a reason: %s\n%s", resp.Status, b)
	}
	resp = ts.post(t, mgr, "/search", url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 42 complaint"},
		"number": {"+47 912 34 567"}, "from": {"2026-11-30"}, "to": {"2026-11-30"}, "decision": {"granted"}, "recording": {"complete"}})
	b = body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(b, `id="results"`) || !strings.Contains(b, "2026-11-30 10:15:00 CET") {
		t.Fatalf("search: %s\n%s", resp.Status, b)
	}
	q := ts.b.searches[len(ts.b.searches)-1]
	oslo, _ := time.LoadLocation("Europe/Oslo")
	if q.CallerPseudonym != "pseudonym-of-the-number" || !q.Since.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, oslo)) ||
		!q.Until.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, oslo)) || q.Decision != "granted" || q.Recording != "complete" || q.Limit != pageSize+1 {
		t.Errorf("query %+v", q)
	}
	if bad := ts.post(t, mgr, "/search", url.Values{"purpose": {"quality-assurance"}, "reason": {"x y z"}, "number": {"call me"}}); bad.StatusCode != http.StatusBadRequest {
		t.Errorf("a number that is none: %s", bad.Status)
	}
	for _, n := range []string{"912 34 567", "91234567", "+47"} {
		if strings.Contains(ts.logs.String(), n) {
			t.Errorf("the log holds the number (%q)", n)
		}
	}
}

// One listen is one call to the access service (one audit entry), however many range requests
// the player makes; the token works only in the session it was issued to.
func TestListenOnceManyRanges(t *testing.T) {
	ts := startServer(t)
	mgr := ts.login(t, "mona", managerPassword)
	page := body(t, ts.post(t, mgr, "/calls/0b1c2d3e-0000-4000-8000-000000000001/listen", url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 42 check"}}))
	m := regexp.MustCompile(`<audio id="player"[^>]* src="(/audio/[A-Za-z0-9_-]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no player:\n%s", page)
	}
	for i := range 5 {
		resp := ts.get(t, mgr, m[1], "Range", "bytes="+string(rune('0'+i))+"00-")
		if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Type") != "audio/wav" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("range %d: %s %v", i, resp.Status, resp.Header)
		}
		io.Copy(io.Discard, resp.Body)
	}
	if ts.b.listens != 1 {
		t.Fatalf("%d listens for one press of Listen, want 1", ts.b.listens)
	}
	other := ts.login(t, "mona", managerPassword) // another session of the same user
	if resp := ts.get(t, other, m[1]); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the token in another session: %s", resp.Status)
	}
	if strings.Contains(ts.logs.String(), strings.TrimPrefix(m[1], "/audio/")) {
		t.Error("the log holds a listen token")
	}
	ts.b.mu.Lock()
	ts.b.calls[0].WithdrawnAt = time.Now()
	ts.b.mu.Unlock()
	if resp := ts.get(t, mgr, m[1], "Range", "bytes=0-"); resp.StatusCode != http.StatusGone {
		t.Fatalf("a granted listen after a withdrawal: %s", resp.Status)
	}
}

func TestListenTokensBounded(t *testing.T) {
	now := time.Now()
	l := newListenTokens(func() time.Time { return now })
	first, _ := l.issue("s", "c", "p")
	for range maxListenTokens + 10 {
		now = now.Add(time.Millisecond)
		l.issue("s", "c", "p")
	}
	if l.len() != maxListenTokens {
		t.Fatalf("%d tokens, want at most %d", l.len(), maxListenTokens)
	}
	if _, ok := l.lookup(first, "s"); ok {
		t.Fatal("the oldest token was kept beyond the bound")
	}
	tok, _ := l.issue("s", "c", "p")
	now = now.Add(listenTTL)
	if _, ok := l.lookup(tok, "s"); ok {
		t.Fatal("an expired token still works")
	}
}

// Both languages have every text; the choice is kept in a cookie, Accept-Language decides
// before it.
func TestMessagesAndLanguage(t *testing.T) {
	for key := range messages[langEN] {
		if _, ok := messages[langNB][key]; !ok {
			t.Errorf("nb lacks %q", key)
		}
	}
	for key := range messages[langNB] {
		if _, ok := messages[langEN][key]; !ok {
			t.Errorf("en lacks %q", key)
		}
	}
	ts := startServer(t)
	c := ts.client(t)
	if b := body(t, ts.get(t, c, "/login", "Accept-Language", "en-GB,en;q=0.9")); !strings.Contains(b, "User name") {
		t.Error("Accept-Language en: not English")
	}
	if b := body(t, ts.get(t, c, "/login")); !strings.Contains(b, "Brukernavn") {
		t.Error("default: not Norwegian")
	}
	resp := ts.post(t, c, "/lang", url.Values{"lang": {"en"}, "back": {"//evil.example/"}})
	if resp.Header.Get("Location") != "/" {
		t.Errorf("language switch redirects to %q", resp.Header.Get("Location"))
	}
	if b := body(t, ts.get(t, c, "/login")); !strings.Contains(b, "User name") {
		t.Error("the chosen language is not kept")
	}
}
