// Package ui serves a documentation page for an OpenAPI document. The page
// is a few hundred bytes of HTML; the browser loads the renderer (Redoc)
// from its CDN and fetches the schema from the service. Nothing is
// embedded and the server fetches nothing.
package ui

import (
	"html/template"
	"net/http"
	"strings"
)

// RedocScript is the renderer the page loads in the browser.
const RedocScript = "https://cdn.redoc.ly/redoc/v2.1.5/bundles/redoc.standalone.js"

var page = template.Must(template.New("redoc").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{margin:0;padding:0}</style>
</head>
<body>
<redoc spec-url="{{.SpecURL}}"></redoc>
<script src="{{.Script}}"></script>
</body>
</html>
`))

// Redoc returns a handler serving a page titled title that renders the
// OpenAPI document at specURL (e.g. "/api/schema/") with Redoc. The page
// is rendered once; GET and HEAD are answered, other methods get 405.
// The response forbids framing and limits scripts to the Redoc CDN with a
// Content-Security-Policy.
func Redoc(title, specURL string) http.Handler {
	var b strings.Builder
	if err := page.Execute(&b, struct{ Title, SpecURL, Script string }{title, specURL, RedocScript}); err != nil {
		panic("cosworth/openapi/ui: " + err.Error())
	}
	return &handler{body: []byte(b.String())}
}

type handler struct{ body []byte }

// ServeHTTP writes the page.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src https://cdn.redoc.ly 'unsafe-inline'; style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src https://fonts.gstatic.com; img-src 'self' data: https://cdn.redoc.ly; worker-src blob:; connect-src 'self'")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(h.body)
}
