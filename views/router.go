package views

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/models"
)

// SimpleRouter is DRF's SimpleRouter: it mounts registered viewsets on a
// chi router with DRF's URL shapes, always with the trailing slash:
//
//	{prefix}/                      list and create ("{basename}-list")
//	{prefix}/{lookup}/             retrieve, update, destroy ("{basename}-detail")
//	{prefix}/{url_path}/           a list action ("{basename}-{url_name}")
//	{prefix}/{lookup}/{url_path}/  a detail action ("{basename}-{url_name}")
//
// Every route is mounted with Handle, so its view dispatches the method
// (405 with Allow, after authentication and permissions as in DRF).
// Defaults complete every registered viewset's configuration. A plain chi
// user can still mount single views next to the router's routes.
type SimpleRouter struct {
	// Defaults are the project-wide settings of the registered viewsets.
	Defaults Defaults

	regs  []registration
	names map[string]string // route name -> chi pattern, after Install
}

// registration is one Register call.
type registration struct {
	prefix, basename string
	vs               ViewSet
}

// Register adds vs under prefix ("books", or "library/books": lower-case
// letters, digits, "_", "-", "." and "/" between segments), its routes
// named after basename ("book": "book-list", "book-detail"); an empty
// basename means prefix. It panics for a bad prefix or a prefix or
// basename registered already: both are programmer errors.
func (s *SimpleRouter) Register(prefix string, vs ViewSet, basename string) {
	for seg := range strings.SplitSeq(prefix, "/") {
		if !validName(seg, "_-.") || strings.Trim(seg, ".") == "" {
			setupPanic("router prefix %q: use segments of lower-case letters, digits, _, - and .", prefix)
		}
	}
	if vs == nil {
		setupPanic("router prefix %q: nil viewset", prefix)
	}
	if basename == "" {
		basename = prefix
	}
	for _, r := range s.regs {
		if r.prefix == prefix || r.basename == basename {
			setupPanic("router: prefix %q or basename %q is registered already", prefix, basename)
		}
	}
	s.regs = append(s.regs, registration{prefix: prefix, basename: basename, vs: vs})
}

// Install mounts the registered viewsets' routes on r. It panics for a
// misconfigured viewset (an action without Run, two actions with one
// name).
func (s *SimpleRouter) Install(r chi.Router) { s.install(r, false) }

// install mounts the routes, and with suffixes their format-suffix
// variants ({prefix}.json, {prefix}/{lookup}.json, ...).
func (s *SimpleRouter) install(r chi.Router, suffixes bool) {
	s.names = map[string]string{}
	for _, reg := range s.regs {
		for _, rt := range reg.vs.Routes(s.Defaults) {
			pattern := "/" + reg.prefix + rt.Path + "/"
			r.Handle(pattern, rt.Handler)
			s.names[reg.basename+"-"+rt.Name] = pattern
			if suffixes {
				sh := FormatSuffix(rt.Handler)
				r.Handle("/"+reg.prefix+rt.Path+".{format}", sh)
				r.Handle("/"+reg.prefix+rt.Path+".{format}/", sh)
			}
		}
	}
}

// Pattern returns the chi pattern of the route named name ("book-detail":
// "/books/{id}/", relative to where the router is installed), or "" when
// there is none. It is the counterpart of Django's reverse with the
// lookup left as a parameter; it answers after Install.
func (s *SimpleRouter) Pattern(name string) string { return s.names[name] }

// DefaultRouter is DRF's DefaultRouter: a SimpleRouter plus the API root
// view at "/" (GET: {"<prefix>": "<absolute URL of its list>", ...} in
// registration order) and format suffixes on every route
// ({prefix}.json, {prefix}/{lookup}.json, ...; JSON is the only format,
// another suffix is 404 {"detail": "Not found."}).
type DefaultRouter struct {
	SimpleRouter
	// RootName and RootDescription are the API root's name and
	// description in OPTIONS responses; empty means DRF's "Api Root" and
	// "The default basic root view for DefaultRouter".
	RootName, RootDescription string
	// TrustForwardedProto makes the API root's URLs https when the
	// request's X-Forwarded-Proto is "https" (set it behind a proxy that
	// sets that header; DRF's SECURE_PROXY_SSL_HEADER). Otherwise the
	// scheme is https only for a TLS connection.
	TrustForwardedProto bool
}

// Install mounts the API root, the registered viewsets' routes and their
// format-suffix variants on r. It panics for a misconfigured viewset.
func (d *DefaultRouter) Install(r chi.Router) {
	d.install(r, true)
	root := &APIView{
		Name:        d.RootName,
		Description: d.RootDescription,
		Permissions: d.Defaults.Permissions,
		Throttles:   d.Defaults.Throttles,
		Get:         d.root,
	}
	if root.Name == "" {
		root.Name = "Api Root"
	}
	if root.Description == "" {
		root.Description = "The default basic root view for DefaultRouter"
	}
	r.Handle("/", root)
	r.Handle("/.{format}", FormatSuffix(root))
	r.Handle("/.{format}/", FormatSuffix(root))
}

// root answers GET on the API root: the absolute URL of every registered
// list, built from the request's validated Host and the path the root was
// reached at.
func (d *DefaultRouter) root(w http.ResponseWriter, r *http.Request) error {
	if !validHost(r.Host) {
		return &badHostError{}
	}
	scheme := "http"
	if r.TLS != nil || d.TrustForwardedProto && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	base := r.URL.Path
	suffix := ""
	if f := chi.URLParam(r, "format"); f != "" {
		suffix = "." + f
		base = strings.TrimSuffix(strings.TrimSuffix(base, "/"), suffix)
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	b := jsonbody.GetBuffer()
	defer jsonbody.PutBuffer(b)
	out := append(*b, '{')
	n := 0
	for _, reg := range d.regs {
		if d.names[reg.basename+"-list"] == "" {
			continue // no list route: DRF lists only prefixes with one
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		u := url.URL{Scheme: scheme, Host: r.Host, Path: base + reg.prefix + "/"}
		if suffix != "" {
			u.Path = base + reg.prefix + suffix
		}
		out = jsonbody.AppendString(out, reg.prefix)
		out = append(out, ':')
		out = jsonbody.AppendString(out, u.String())
	}
	out = append(out, '}')
	*b = out
	jsonbody.Write(w, http.StatusOK, out)
	return nil
}

// validHost reports whether h is a host name, IPv4 or bracketed IPv6
// address, with an optional port: what Django's get_host accepts before
// ALLOWED_HOSTS. Nothing else reaches a URL the root builds.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		i := strings.IndexByte(h, ']')
		if i < 0 {
			return false
		}
		host, port = h[1:i], h[i+1:]
		for _, c := range host {
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') && c != ':' && c != '.' {
				return false
			}
		}
	} else {
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			host, port = h[:i], h[i:]
		}
		for _, c := range host {
			if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '-' && c != '.' {
				return false
			}
		}
	}
	if host == "" {
		return false
	}
	if port != "" {
		if port[0] != ':' || len(port) < 2 || len(port) > 6 {
			return false
		}
		for _, c := range port[1:] {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// badHostError is a request whose Host header is not a host: Django's
// DisallowedHost, 400.
type badHostError struct{}

func (*badHostError) Error() string   { return "Invalid HTTP_HOST header." }
func (*badHostError) StatusCode() int { return http.StatusBadRequest }

// FormatSuffix returns the handler of a route's format-suffix variant,
// DRF's format_suffix_patterns: h for the URL parameter {format} "json",
// 404 {"detail": "Not found."} for any other (no renderer for the format).
// The DefaultRouter mounts one for every route; for a view mounted by
// hand:
//
//	r.Handle("/books/", list)
//	r.Handle("/books.{format}", views.FormatSuffix(list))
//
// OpenAPI generation leaves these routes out.
func FormatSuffix(h http.Handler) http.Handler { return formatSuffix{h} }

type formatSuffix struct{ next http.Handler }

func (f formatSuffix) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if chi.URLParam(r, "format") != "json" {
		WriteError(w, r, models.ErrNotFound)
		return
	}
	f.next.ServeHTTP(w, r)
}
