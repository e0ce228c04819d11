package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/web"
)

// TestConsoleHTTP runs the console over the daemon's real access service, without a browser:
// pages need a session and their role, and the access service refuses what a page would not
// offer anyway (the rule is there, not in the page).
func TestConsoleHTTP(t *testing.T) {
	c := startConsole(t)
	client := func(user, pw string) *http.Client {
		jar, _ := cookiejar.New(nil)
		cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if user != "" {
			resp := post(t, cl, c.url+"/login", url.Values{"user": {user}, "password": {pw}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login %s: %s", user, resp.Status)
			}
		}
		return cl
	}
	anon, mona, olga := client("", ""), client("mona", managerPW), client("olga", officerPW)
	call := "/calls/" + c.granted[0].UUID
	for _, p := range []struct {
		path string
		role web.Role
	}{
		{"/search", web.RoleManager}, {call, web.RoleManager}, {call + "/listen", web.RoleManager}, {call + "/export", web.RoleManager},
		{"/users", web.RoleOfficer}, {"/grants", web.RoleOfficer}, {"/purposes", web.RoleOfficer}, {"/dsar", web.RoleOfficer}, {"/withdraw", web.RoleOfficer},
	} {
		form := url.Values{"purpose": {qaPurpose}, "reason": {qaReason}, "number": {"+4791234567"}, "call": {c.granted[0].UUID}}
		if resp := post(t, anon, c.url+p.path, form); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("POST %s without a session: %s %s", p.path, resp.Status, resp.Header.Get("Location"))
		}
		other := mona
		if p.role == web.RoleManager {
			other = olga
		}
		if resp := post(t, other, c.url+p.path, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s with the other role: %s", p.path, resp.Status)
		}
	}
	for _, path := range []string{"/audit?call=" + c.granted[0].UUID, "/users", "/grants?all=1"} {
		resp, err := mona.Get(c.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s as a line manager: %s", path, resp.Status)
		}
	}
	// Past the pages: the access service itself refuses a line manager the officer's work and
	// an officer the line manager's, and audits the refusals.
	ctx := context.Background()
	b := c.d.webBackend
	monaS, olgaS := web.Session{User: "mona", Role: web.RoleManager}, web.Session{User: "olga", Role: web.RoleOfficer}
	if _, err := b.Users(ctx, monaS); web.Kind(err) != web.KindDenied {
		t.Errorf("a line manager lists users: %v", err)
	}
	if _, err := b.Search(ctx, olgaS, web.Case{Purpose: qaPurpose, Reason: qaReason}, web.Query{Limit: 10}); web.Kind(err) != web.KindDenied {
		t.Errorf("an officer searches: %v", err)
	}
	if _, err := b.Listen(ctx, monaS, web.Case{Purpose: qaPurpose, Reason: "because"}, c.granted[0].UUID); web.Kind(err) != web.KindDenied {
		t.Errorf("a listen with a reason of one word: %v", err)
	}
	if n := c.auditCount(t, "search", "denied", ""); n < 1 {
		t.Error("the officer's search is not audited as denied")
	}
	// A player already granted stops at the withdrawal.
	uuid := c.granted[0].UUID
	if err := b.Playable(ctx, uuid); err != nil {
		t.Fatalf("before the withdrawal: %v", err)
	}
	if _, err := b.Withdraw(ctx, olgaS, consent.WithdrawRequest{CallUUID: uuid, Reason: "caller asked by phone, ticket 77"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Playable(ctx, uuid); web.Kind(err) != web.KindNotFound {
		t.Fatalf("after the withdrawal: %v", err)
	}
}

func post(t *testing.T, cl *http.Client, u string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", strings.Join(strings.SplitN(u, "/", 4)[:3], "/"))
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestConsoleOfficerForms: the security officer's forms reach the real access service and
// change what they say, each a 303 back to its page; a refusal is the page again with why.
func TestConsoleOfficerForms(t *testing.T) {
	c := startConsole(t)
	jar, _ := cookiejar.New(nil)
	olga := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post(t, olga, c.url+"/login", url.Values{"user": {"olga"}, "password": {officerPW}})
	tomorrow := c.clock.Now().In(c.cfg.webLocation()).AddDate(0, 0, 1).Format("2006-01-02")
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/users", url.Values{"name": {"nina"}, "role": {"line-manager"}, "password": {"a long first password"}}},
		{"/purposes", url.Values{"name": {"complaint-handling"}, "description": {"answering complaints"}, "reason": {"approved by the board on 2026-11-29"}}},
		{"/grants", url.Values{"user": {"nina"}, "purpose": {"complaint-handling", "training"}, "expires": {tomorrow}, "reason": {"nina handles complaints this week"}}},
		{"/users/nina/password", url.Values{"password": {"another long password"}}},
		{"/users/lars/unlock", nil},
		{"/purposes/complaint-handling/retire", url.Values{"reason": {"merged into quality assurance"}}},
		{"/users/nina/disable", url.Values{"reason": {"nina left the company today"}}},
	} {
		resp := post(t, olga, c.url+step.path, step.form)
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=") {
			t.Fatalf("POST %s: %s %s", step.path, resp.Status, resp.Header.Get("Location"))
		}
	}
	users, _ := c.svc.Users(c.ctx, c.officer)
	for _, u := range users {
		if u.Name == "nina" && !u.Disabled || u.Name == "lars" && u.Locked(c.clock.Now()) {
			t.Errorf("user %s: disabled %v, locked until %v", u.Name, u.Disabled, u.LockedUntil)
		}
	}
	grants, _ := c.svc.Grants(c.ctx, c.officer, true)
	g := grants[len(grants)-1]
	if g.User != "nina" || len(g.Purposes) != 2 || g.ExpiresAt.In(c.cfg.webLocation()).Format("2006-01-02") != c.clock.Now().In(c.cfg.webLocation()).AddDate(0, 0, 2).Format("2006-01-02") {
		t.Errorf("grant %+v: want nina's two purposes through the whole of %s", g, tomorrow)
	}
	// A refusal: a grant without a reason is the page again, saying why, and nothing changed.
	resp := post(t, olga, c.url+"/grants", url.Values{"user": {"mona"}, "purpose": {"training"}, "expires": {tomorrow}, "reason": {""}})
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a grant without a reason: %s", resp.Status)
	}
	if after, _ := c.svc.Grants(c.ctx, c.officer, true); len(after) != len(grants) {
		t.Error("a refused grant was stored")
	}
}

// TestConsoleLoginSameForUnknownNames: the sign-in page says "locked" of a name without an
// account after as many failures as of a real one, so that it cannot be used to find out which
// names exist (it said so of real accounts only: four wrong passwords told a name existed).
func TestConsoleLoginSameForUnknownNames(t *testing.T) {
	c := startConsole(t)
	try := func(name string) (int, string) {
		jar, _ := cookiejar.New(nil)
		cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequest(http.MethodPost, c.url+"/login", strings.NewReader(url.Values{"user": {name}, "password": {"not the password"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.url)
		req.Header.Set("Accept-Language", "en")
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for i := 1; i <= access.LockoutFailures; i++ {
		realCode, realBody := try("mona")
		code, body := try("zed")
		if code != realCode || strings.Contains(body, "is locked") != strings.Contains(realBody, "is locked") {
			t.Fatalf("failure %d: a real name answers %d (locked %v), an unknown one %d (locked %v)",
				i, realCode, strings.Contains(realBody, "is locked"), code, strings.Contains(body, "is locked"))
		}
		c.clock.Advance(access.FailureDelay(i) + time.Second)
	}
	lockedCode, lockedBody := try("lars")
	code, body := try("zed")
	if code != lockedCode || code != http.StatusForbidden || !strings.Contains(body, "is locked") || !strings.Contains(lockedBody, "is locked") {
		t.Fatalf("after %d failures: unknown name %d, locked account %d", access.LockoutFailures, code, lockedCode)
	}
}
