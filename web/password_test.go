package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func sessionCookieOf(resp *http.Response) string {
	for _, k := range resp.Cookies() {
		if k.Name == "callconsent_session" {
			return k.Value
		}
	}
	return ""
}

// TestPassword: a signed-in user changes their own password (current once, new twice; the
// header links the page); the change ends their sessions and hands this browser a new one.
func TestPassword(t *testing.T) {
	ts := startServer(t)
	if resp := ts.get(t, ts.client(t), "/password"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("GET /password without a session: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp := ts.post(t, ts.client(t), "/password", url.Values{"current": {managerPassword}, "new": {"a new long password"}, "again": {"a new long password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /password without a session: %s", resp.Status)
	}
	mona, other := ts.login(t, "mona", managerPassword), ts.login(t, "mona", managerPassword)
	if b := body(t, ts.get(t, mona, "/search")); !strings.Contains(b, `href="/password"`) {
		t.Error("the header does not link the password page")
	}
	for _, c := range []*http.Client{mona, ts.login(t, "olga", officerPassword)} { // every role
		if resp := ts.get(t, c, "/password"); resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), `id="password-form"`) {
			t.Fatalf("GET /password: %s", resp.Status)
		}
	}
	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"typed twice differently", url.Values{"current": {managerPassword}, "new": {"a new long password"}, "again": {"a new long passwort"}}, http.StatusBadRequest, "passordene er ulike"},
		{"wrong current", url.Values{"current": {"not mine"}, "new": {"a new long password"}, "again": {"a new long password"}}, http.StatusForbidden, "Feil brukernavn eller nåværende passord"},
		{"refused by the service", url.Values{"current": {managerPassword}, "new": {"short"}, "again": {"short"}}, http.StatusBadRequest, "Passordet er for kort"},
	} {
		resp := ts.post(t, mona, "/password", tt.form)
		if b := body(t, resp); resp.StatusCode != tt.status || !strings.Contains(b, tt.want) {
			t.Errorf("%s: %s, want %d saying %q", tt.name, resp.Status, tt.status, tt.want)
		}
	}
	if len(ts.b.changes) != 0 {
		t.Fatalf("refused changes reached the service: %v", ts.b.changes)
	}
	before, _ := url.Parse(ts.url)
	old := mona.Jar.Cookies(before)[0].Value
	resp := ts.post(t, mona, "/password", url.Values{"current": {managerPassword}, "new": {"a new long password"}, "again": {"a new long password"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/password?done=passwordchanged" {
		t.Fatalf("change: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	if id := sessionCookieOf(resp); id == "" || id == old {
		t.Fatal("the change did not hand the browser a new session id")
	}
	if b := body(t, ts.get(t, mona, "/password?done=passwordchanged")); !strings.Contains(b, "Passordet ditt er endret") {
		t.Error("no confirmation after the change")
	}
	if resp := ts.get(t, other, "/search"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another session of the user after the change: %s", resp.Status)
	}
	for _, secret := range []string{managerPassword, "a new long password", old} {
		if strings.Contains(ts.logs.String(), secret) {
			t.Errorf("the log holds a password or a session id (%.4s…)", secret)
		}
	}
}

// TestPasswordReset: a user whose password an officer set gets no session at sign-in but the
// form to set their own (the given password is not put into the page); after it they are
// signed in; while they wait or are locked, the form says so as the sign-in does.
func TestPasswordReset(t *testing.T) {
	ts := startServer(t)
	c := ts.client(t)
	resp := ts.post(t, c, "/login", url.Values{"user": {"reset"}, "password": {resetPassword}})
	b := body(t, resp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(b, `action="/password/new"`) || !strings.Contains(b, `value="reset"`) ||
		!strings.Contains(b, "Passordet ditt ble satt av sikkerhetsansvarlig") || strings.Contains(b, resetPassword) || sessionCookieOf(resp) != "" {
		t.Fatalf("sign-in with a reset password: %s\n%s", resp.Status, b)
	}
	if resp := ts.get(t, c, "/search"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a page before the own password: %s", resp.Status)
	}
	form := url.Values{"user": {"reset"}, "current": {resetPassword}, "new": {"my own long password"}, "again": {"my own long password"}}
	if resp := ts.post(t, ts.client(t), "/password/new", url.Values{"user": {"throttled"}, "current": {"x"}, "new": {"my own long password"}, "again": {"my own long password"}}); resp.StatusCode != http.StatusTooManyRequests ||
		!strings.Contains(body(t, resp), "vent et minutt") {
		t.Errorf("throttled: %s", resp.Status)
	}
	for name, hdr := range map[string][2]string{"other site": {"https://evil.example", "cross-site"}, "same site, port": {"http://127.0.0.1:1", "same-site"}} {
		req, _ := http.NewRequest(http.MethodPost, ts.url+"/password/new", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", hdr[0])
		req.Header.Set("Sec-Fetch-Site", hdr[1])
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || sessionCookieOf(resp) != "" {
			t.Errorf("%s: %s, want 403 and no session", name, resp.Status)
		}
	}
	if len(ts.b.changes) != 0 {
		t.Fatalf("refused changes reached the service: %v", ts.b.changes)
	}
	resp = ts.post(t, c, "/password/new", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || sessionCookieOf(resp) == "" {
		t.Fatalf("own password set: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp := ts.get(t, c, "/search"); resp.StatusCode != http.StatusOK {
		t.Fatalf("search after the own password: %s", resp.Status)
	}
	if strings.Contains(ts.logs.String(), resetPassword) || strings.Contains(ts.logs.String(), "my own long password") {
		t.Error("the log holds a password")
	}
}
