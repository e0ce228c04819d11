package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// assetHandler serves the stylesheet and the scripts: files, so that the Content-Security-Policy
// allows no inline script at all.
func assetHandler() http.Handler {
	sub, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	return http.FileServerFS(sub)
}

// pages holds, per language, one template set per page: the layout with that page's content.
type pages struct {
	sets map[string]map[string]*template.Template
}

// loadPages parses every page with the layout, once per language, with the functions that
// translate and show times in loc. A template that does not parse is a build mistake, caught
// by every test that makes a Server.
func loadPages(loc *time.Location) (*pages, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]map[string]*template.Template{}}
	for _, lang := range []string{langNB, langEN} {
		funcs := template.FuncMap{
			"T":    translator(lang),
			"when": func(at time.Time) string { return formatTime(at, loc) },
			"day":  func(at time.Time) string { return formatDay(at, loc) },
			"secs": func(ms int64) string { return fmt.Sprintf("%.1f", float64(ms)/1000) },
			"join": strings.Join,
			"inc":  func(i int) int { return i + 1 },
			"dec":  func(i int) int { return i - 1 },
			"pageArgs": func(d searchData, page int, label string) pageArgs {
				return pageArgs{D: d, Page: page, Label: label}
			},
		}
		p.sets[lang] = map[string]*template.Template{}
		for _, n := range names {
			name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
			if name == "layout" {
				continue
			}
			t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
			if err != nil {
				return nil, fmt.Errorf("web: template %s: %w", name, err)
			}
			p.sets[lang][name] = t
		}
	}
	return p, nil
}

// pageArgs is what the search page's pager form gets: the search again, on another page.
type pageArgs struct {
	D     searchData
	Page  int
	Label string
}

// pageData is what every page template gets; Data is the page's own.
type pageData struct {
	Lang    string
	Path    string
	Session *Session
	Title   string
	Problem string // a message key or a service's message, shown as an error at the top
	Notice  string // a message key shown as a confirmation
	Data    any
}

// render writes page with status 200.
func (s *Server) render(w http.ResponseWriter, r *http.Request, sess *Session, page string, d pageData) {
	s.renderStatus(w, r, http.StatusOK, sess, page, d)
}

// renderStatus executes the page into a buffer first, so that a template error becomes a 500
// and never half a page.
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, sess *Session, page string, d pageData) {
	d.Lang, d.Path, d.Session = language(r), r.URL.Path, sess
	t := s.pages.sets[d.Lang][page]
	if t == nil {
		s.log.Error("no such page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	err := t.Execute(&buf, d)
	if err == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		w.Write(buf.Bytes())
		return
	}
	s.log.Error("render page", "page", page, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
