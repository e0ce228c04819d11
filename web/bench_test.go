package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkSearchPage is one search with results through the whole handler (headers, the
// cross-origin check, form, session, template), the backend a fake: the console's own cost.
func BenchmarkSearchPage(b *testing.B) {
	ts := startServer(b)
	c := ts.b
	sess, _ := c.Login(b.Context(), "mona", managerPassword)
	h := ts.Handler()
	form := url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 42 complaint check"}}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/search", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.AddCookie(&http.Cookie{Name: "callconsent_session", Value: sess.ID})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
