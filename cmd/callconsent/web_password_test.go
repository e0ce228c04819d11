package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/access"
)

// TestConsolePassword runs the password pages over the daemon's real access service: an
// officer resets mona's password on /users; mona's sign-in with it opens no session but the
// form to set her own, every page still refuses her, a wrong given password counts as a failed
// login; her own password signs her in, the reset one no longer works, and a later change of
// her own ends her other sessions. Each change is audited as user.passwd.
func TestConsolePassword(t *testing.T) {
	c := startConsole(t)
	newClient := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	lang := "en"
	send := func(cl *http.Client, method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, c.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.url)
		req.Header.Set("Accept-Language", lang)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	signIn := func(user, pw string) (*http.Client, *http.Response, string) {
		cl := newClient()
		resp, b := send(cl, "POST", "/login", url.Values{"user": {user}, "password": {pw}})
		return cl, resp, b
	}
	olga, _, _ := signIn("olga", officerPW)
	monaBefore, _, _ := signIn("mona", managerPW)
	const reset = "set by olga on monday morning"
	if resp, _ := send(olga, "POST", "/users/mona/password", url.Values{"password": {reset}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %s", resp.Status)
	}
	if resp, _ := send(monaBefore, "GET", "/search", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("mona's session after the reset: %s", resp.Status)
	}
	mona, resp, b := signIn("mona", reset)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(b, `action="/password/new"`) || strings.Contains(b, reset) {
		t.Fatalf("sign-in with the reset password: %s\n%s", resp.Status, b)
	}
	for _, path := range []string{"/search", "/password", "/users"} {
		if resp, _ := send(mona, "GET", path, nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("GET %s with only the reset password: %s %q", path, resp.Status, resp.Header.Get("Location"))
		}
	}
	const own = "only she knows this one"
	form := func(current, next string) url.Values {
		return url.Values{"user": {"mona"}, "current": {current}, "new": {next}, "again": {next}}
	}
	if resp, b := send(mona, "POST", "/password/new", form(reset, reset)); resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, "must differ") {
		t.Errorf("keeping the reset password: %s", resp.Status)
	}
	// The service's rules, said in the user's language (the page knows the service's texts).
	lang = "nb"
	for next, want := range map[string]string{"short one": "Passordet er for kort", "mona's own long password": "kan ikke inneholde brukernavnet",
		reset: "et annet enn det nåværende"} {
		if resp, b := send(mona, "POST", "/password/new", form(reset, next)); resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, want) {
			t.Errorf("new password %q: %s, want 400 saying %q", next, resp.Status, want)
		}
	}
	lang = "en"
	if resp, b := send(mona, "POST", "/password/new", form("not what olga said", own)); resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "Wrong user name or current password") {
		t.Errorf("a wrong given password: %s", resp.Status)
	}
	if n := c.auditCount(t, "user.passwd", "denied", ""); n != 1 {
		t.Errorf("%d denied user.passwd entries, want 1", n)
	}
	resp, _ = send(mona, "POST", "/password/new", form(reset, own))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("own password: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp, b := send(mona, "POST", "/search", url.Values{"purpose": {qaPurpose}, "reason": {qaReason}}); resp.StatusCode != http.StatusOK || !strings.Contains(b, `id="results"`) {
		t.Fatalf("search after the own password: %s", resp.Status)
	}
	if _, err := c.svc.Login(c.ctx, "mona", reset); err != access.ErrLoginFailed {
		t.Error("the reset password still works")
	}
	// A signed-in change: the other sessions end, this browser gets a new one.
	other, _, _ := signIn("mona", own)
	resp, _ = send(mona, "POST", "/password", url.Values{"current": {own}, "new": {"and now another one"}, "again": {"and now another one"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/password?done=passwordchanged" {
		t.Fatalf("signed-in change: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp, _ := send(mona, "GET", "/password?done=passwordchanged", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the browser that changed it: %s", resp.Status)
	}
	if resp, _ := send(other, "GET", "/search", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another session after the change: %s", resp.Status)
	}
	if n := c.auditCount(t, "user.passwd", "ok", ""); n != 3 { // olga's reset, mona's two
		t.Errorf("%d user.passwd entries, want 3", n)
	}
	for _, secret := range []string{reset, own, "and now another one"} {
		if strings.Contains(c.logs.String(), secret) {
			t.Errorf("the log holds a password (%.6s…)", secret)
		}
	}
}
