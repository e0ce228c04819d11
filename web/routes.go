package web

import (
	"net/http"
	"strings"
	"time"
)

// Handler is the console's whole HTTP handler: every route, behind the headers every response
// carries and the cross-origin check every state change passes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", assetHandler()))
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("POST /lang", s.setLang)
	mux.HandleFunc("GET /password", s.signedIn(s.passwordPage))
	mux.HandleFunc("POST /password", s.signedIn(s.changePassword))
	mux.HandleFunc("POST /password/new", s.newPassword)

	mux.HandleFunc("GET /search", s.manager(s.searchPage))
	mux.HandleFunc("POST /search", s.manager(s.search))
	mux.HandleFunc("POST /calls/{uuid}", s.manager(s.callPage))
	mux.HandleFunc("POST /calls/{uuid}/listen", s.manager(s.listen))
	mux.HandleFunc("GET /audio/{token}", s.manager(s.audio))
	mux.HandleFunc("POST /calls/{uuid}/export-form", s.manager(s.exportPage))
	mux.HandleFunc("POST /calls/{uuid}/export", s.manager(s.export))

	mux.HandleFunc("GET /users", s.officer(s.usersPage))
	mux.HandleFunc("POST /users", s.officer(s.addUser))
	mux.HandleFunc("POST /users/{name}/disable", s.officer(s.disableUser))
	mux.HandleFunc("POST /users/{name}/password", s.officer(s.resetPassword))
	mux.HandleFunc("POST /users/{name}/unlock", s.officer(s.unlockUser))
	mux.HandleFunc("GET /grants", s.officer(s.grantsPage))
	mux.HandleFunc("POST /grants", s.officer(s.addGrant))
	mux.HandleFunc("POST /grants/{id}/revoke", s.officer(s.revokeGrant))
	mux.HandleFunc("GET /purposes", s.officer(s.purposesPage))
	mux.HandleFunc("POST /purposes", s.officer(s.addPurpose))
	mux.HandleFunc("POST /purposes/{name}/retire", s.officer(s.retirePurpose))
	mux.HandleFunc("GET /audit", s.officer(s.auditPage))
	mux.HandleFunc("GET /dsar", s.officer(s.dsarPage))
	mux.HandleFunc("POST /dsar", s.officer(s.dsar))
	mux.HandleFunc("GET /withdraw", s.officer(s.withdrawPage))
	mux.HandleFunc("POST /withdraw", s.officer(s.withdraw))

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOrigin))
	return s.securityHeaders(cop.Handler(s.limitBody(mux)))
}

// contentSecurityPolicy allows only the console's own files: no inline script or style, no
// framing, forms posting back to the console only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries. Everything but the static assets
// is personal data or depends on the session, so nothing else may be stored by a browser or a
// proxy (Cache-Control: no-store).
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		// A client that stops reading holds its connection no longer than this (the audio
		// handler allows a longer stream).
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.writeTimeout))
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			h.Set("Cache-Control", "no-cache")
		} else {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody bounds every request body (the console's forms are small) and reads a posted form
// before any handler: a form that is too large or malformed is refused whole, never handed on
// with fields silently missing.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				s.renderStatus(w, r, http.StatusRequestEntityTooLarge, nil, "error", pageData{Problem: "error.form"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin answers a state change another site's page asked for: refused, with a page that
// says so. Nothing of it was carried out.
func (s *Server) crossOrigin(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("cross-origin request refused", "method", r.Method, "path", routeOf(r))
	s.renderStatus(w, r, http.StatusForbidden, nil, "error", pageData{Problem: "error.crossorigin"})
}

// routeOf is the path of r without what could be personal (a user or token in the path).
func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		if _, p, ok := strings.Cut(r.Pattern, " "); ok {
			return p
		}
		return r.Pattern
	}
	if i := strings.IndexByte(r.URL.Path[1:], '/'); i >= 0 {
		return r.URL.Path[:i+1] + "/..."
	}
	return r.URL.Path
}
