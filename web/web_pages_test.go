package web

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Every field a user fills in has a label (a screen reader names it; a click on the label
// focuses it).
func TestLabels(t *testing.T) {
	ts := startServer(t)
	mgr, off := ts.login(t, "mona", managerPassword), ts.login(t, "olga", officerPassword)
	pages := map[string]string{
		"login":  body(t, ts.get(t, ts.client(t), "/login")),
		"search": body(t, ts.post(t, mgr, "/search", url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 42 check"}})),
		"export": body(t, ts.post(t, mgr, "/calls/0b1c2d3e-0000-4000-8000-000000000001/export-form", url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 42 check"}})),
	}
	for _, p := range []string{"/users", "/grants", "/purposes", "/audit", "/dsar", "/withdraw", "/password"} {
		pages[p] = body(t, ts.get(t, off, p))
	}
	pages["reset"] = body(t, ts.post(t, ts.client(t), "/login", url.Values{"user": {"reset"}, "password": {resetPassword}}))
	field := regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	id := regexp.MustCompile(`\bid="([^"]+)"`)
	checked := 0
	for name, html := range pages {
		for _, tag := range field.FindAllString(html, -1) {
			if strings.Contains(tag, `type="hidden"`) || strings.Contains(tag, `type="checkbox"`) {
				continue // checkboxes sit inside their label
			}
			m := id.FindStringSubmatch(tag)
			if m == nil || !strings.Contains(html, `<label for="`+m[1]+`"`) {
				t.Errorf("%s: a field without a label: %s", name, tag)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("only %d fields checked", checked)
	}
}
