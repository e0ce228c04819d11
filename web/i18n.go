package web

import (
	"net/http"
	"strings"
	"time"
)

// Languages of the console. The user picks one (a cookie keeps it); until then the browser's
// Accept-Language decides, and Norwegian is the default of a Norwegian company.
const (
	langNB      = "nb"
	langEN      = "en"
	langCookie  = "callconsent_lang"
	defaultLang = langNB
)

// language is the language of r: the cookie's, else the first of Accept-Language we speak.
func language(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langNB || c.Value == langEN) {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch base, _, _ := strings.Cut(strings.ToLower(tag), "-"); base {
		case "nb", "no", "nn":
			return langNB
		case "en":
			return langEN
		}
	}
	return defaultLang
}

// setLang stores the user's choice of language for a year and goes back to the page they were
// on (a path of the console only, never another site).
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PostFormValue("lang")
	if lang != langNB && lang != langEN {
		lang = defaultLang
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.CertFile != ""})
	http.Redirect(w, r, localPath(r.PostFormValue("back")), http.StatusSeeOther)
}

// localPath is p when it is a path of this console, else "/": a redirect never leaves it.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/"
	}
	return p
}

// translator returns the text of key in lang, English when Norwegian lacks it, the key itself
// when both do (a test keeps every key in both).
func translator(lang string) func(key string) string {
	return func(key string) string {
		if t, ok := messages[lang][key]; ok {
			return t
		}
		if t, ok := messages[langEN][key]; ok {
			return t
		}
		return key
	}
}

// formatTime shows t in the site's time zone with the zone's name: stored UTC, read local.
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// formatDay shows t's day in the site's time zone.
func formatDay(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02")
}
