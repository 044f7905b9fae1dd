package views

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/models"
)

// AnyMethod is chi middleware that lets a request with a method chi does
// not know (FOO, PROPFIND) reach the view of its path, so that the view
// answers as DRF does: 401 or 403 when authentication or permissions
// refuse the request, else 405 {"detail": "Method \"FOO\" not allowed."}
// with Allow. Without it chi answers such a request with an empty 405 of
// its own before routing. It routes the request as a GET (the request
// keeps its method); a path with no GET route gets chi's 405. Use it on
// the first chi router a request enters (the root one, whose routing runs
// before any mounted router's):
//
//	r := chi.NewRouter()
//	r.Use(views.AnyMethod)
//
// A method added with chi.RegisterMethod is routed by chi as usual only
// when it is one of the standard methods; register none, or route it
// yourself.
func AnyMethod(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !standardMethod(r.Method) {
			if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RouteMethod == "" {
				rctx.RouteMethod = http.MethodGet
			}
		}
		next.ServeHTTP(w, r)
	})
}

// standardMethod reports whether chi routes method without registration.
func standardMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return true
	}
	return false
}

// NotFound returns chi's NotFound handler for a DRF service: 404
// {"detail": "Not found."}, except for a GET or HEAD whose path lacks its
// trailing slash while the path with it is a route of routes: that is
// redirected (301) to the path with the slash, the query string kept
// (Django's APPEND_SLASH). Give it the root router (the one the server
// serves; paths are matched from the root) and set it on that router and
// on the routers mounted under it:
//
//	r := chi.NewRouter()
//	r.NotFound(views.NotFound(r))
//
// The redirect is always to a path on the same host: a path starting with
// "//" or "/\" (which a browser would read as another host) is answered
// 404.
func NotFound(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if loc, ok := slashRedirect(routes, r); ok {
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		WriteError(w, r, models.ErrNotFound)
	}
}

// slashRedirect returns where r is redirected to: its path with a
// trailing slash, when that is a route for r's method.
func slashRedirect(routes chi.Routes, r *http.Request) (string, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "", false
	}
	path := r.URL.EscapedPath()
	if path == "" || path[0] != '/' || strings.HasSuffix(path, "/") ||
		len(path) > 1 && (path[1] == '/' || path[1] == '\\') ||
		strings.ContainsAny(path, "\\\r\n") {
		return "", false
	}
	match := r.URL.RawPath
	if match == "" {
		match = r.URL.Path
	}
	if !routes.Match(chi.NewRouteContext(), r.Method, match+"/") &&
		!(r.Method == http.MethodHead && routes.Match(chi.NewRouteContext(), http.MethodGet, match+"/")) {
		return "", false
	}
	loc := path + "/"
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	return loc, true
}
