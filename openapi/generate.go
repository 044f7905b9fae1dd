package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/views"
)

// Config says what Generate documents beyond what the router tells it. The
// zero value is usable: title "API", version "1.0.0", no security.
type Config struct {
	// Title, Version and Description fill the document's info.
	Title       string
	Version     string
	Description string
	// Servers lists the base URLs of the API; empty means the host serving
	// the document.
	Servers []Server
	// Tags describe the tags operations are grouped by. Generated
	// operations are tagged with the first segment of their path after an
	// "api" or version segment ("books" for /api/v1/books/{id}/).
	Tags []Tag

	// Authenticators are the authenticators the service runs (those given
	// to authentication.Middleware). An *authentication.JWT becomes the
	// http bearer scheme "jwtAuth" (bearerFormat JWT); one whose challenge
	// is "Token" (authentication.Token, authentication.Redis) the apiKey
	// scheme "tokenAuth" (header Authorization, "Token <key>"); another
	// keyword K the apiKey scheme "kAuth"; "Bearer" the http bearer
	// scheme "bearerAuth"; "Basic" the http basic scheme "basicAuth". An
	// authenticator without a challenge is described with SecuritySchemes,
	// or by implementing SecuritySchemer.
	Authenticators []authentication.Authenticator
	// SecuritySchemes adds security schemes or replaces derived ones, by
	// name. Every operation of a view accepts any of the document's
	// schemes.
	SecuritySchemes map[string]*SecurityScheme

	// Operations describes endpoints that are not generic views, keyed by
	// "METHOD /path/pattern" as mounted ("POST /api/token/", "GET
	// /api/me/"). A key whose route is not on the router is an error. An
	// operation given for a generic view's method replaces the generated
	// one. Responses every endpoint can give are added unless listed: 413
	// and 415 when the operation has a RequestBody, and a default error.
	Operations map[string]*Operation
	// Views describes handlers Generate cannot see through, keyed by
	// route pattern: a view wrapped by a middleware with r.Handle(p,
	// mw(view)) instead of r.With(mw).Handle(p, view). Handlers with an
	// Unwrap() http.Handler method are unwrapped without this.
	Views map[string]views.Describer
	// Schemas adds component schemas, or replaces generated ones by name.
	Schemas map[string]*Schema
	// FieldSchemas replaces the schema of one serialized field, keyed by
	// "Model.json_name" ("Book.owner"): for a field whose representation
	// a Serializer's Represent changes, or a type that neither is a plain
	// Go type nor implements Schemer. readOnly and writeOnly are still
	// added from the plan.
	FieldSchemas map[string]*Schema
	// Exclude lists route patterns left out of the document (health
	// checks, the schema itself).
	Exclude []string
	// Customize, when set, is called with every operation (generated and
	// registered) before the document is finished: set summaries,
	// descriptions, examples, tags or security there.
	Customize func(method, path string, op *Operation)
}

// SecuritySchemer is implemented by an Authenticator that describes its
// own security scheme. Name is the key in components.securitySchemes.
type SecuritySchemer interface {
	OpenAPISecurityScheme() (name string, scheme *SecurityScheme)
}

// unwrapper is a handler wrapping another one.
type unwrapper interface {
	Unwrap() http.Handler
}

// route is one path of the router with its handler and walked methods.
type route struct {
	pattern string // chi pattern
	path    string // OpenAPI path
	params  []pathParam
	methods []string
	// handlers by method: usually one view for every method (r.Handle),
	// sometimes one per method (r.Get, r.Post).
	handlers map[string]http.Handler
}

type pathParam struct {
	name, pattern string
}

// generator holds the state of one Generate call.
type generator struct {
	cfg     Config
	doc     *Document
	schemes []string // security scheme names, sorted
	ids     map[string]string
	names   map[string]string // component base name -> JSON of its response schema
}

// Generate builds the OpenAPI document of the routes of r (a chi.Router
// or chi.Mux) and cfg. It returns an error naming the route for a handler
// whose view is misconfigured (the panic of its first use), a key of
// cfg.Operations with no route, a paginator it cannot describe (implement
// PaginatorDescriber), or two operations with the same operationId.
func Generate(r chi.Routes, cfg Config) (*Document, error) {
	if r == nil {
		return nil, errors.New("cosworth/openapi: nil routes")
	}
	g := &generator{
		cfg:   cfg,
		ids:   map[string]string{},
		names: map[string]string{},
		doc: &Document{
			OpenAPI: Version,
			Info:    Info{Title: cfg.Title, Version: cfg.Version, Description: cfg.Description},
			Servers: cfg.Servers,
			Paths:   map[string]*PathItem{},
			Tags:    cfg.Tags,
			Components: Components{
				Schemas:         map[string]*Schema{},
				SecuritySchemes: map[string]*SecurityScheme{},
			},
		},
	}
	if g.doc.Info.Title == "" {
		g.doc.Info.Title = "API"
	}
	if g.doc.Info.Version == "" {
		g.doc.Info.Version = "1.0.0"
	}
	g.securitySchemes()

	routes, err := collect(r)
	if err != nil {
		return nil, err
	}
	for _, rt := range routes {
		if slices.Contains(cfg.Exclude, rt.pattern) {
			continue
		}
		if err := g.route(rt); err != nil {
			return nil, err
		}
	}
	if err := g.manual(routes); err != nil {
		return nil, err
	}
	for name, s := range cfg.Schemas {
		g.doc.Components.Schemas[name] = s
	}
	if len(g.doc.Paths) > 0 {
		g.errorSchemas()
	}
	if cfg.Customize != nil {
		for _, path := range sortedKeys(g.doc.Paths) {
			item := g.doc.Paths[path]
			for _, m := range methods {
				if op := item.Operation(m); op != nil {
					cfg.Customize(m, path, op)
				}
			}
		}
	}
	if len(g.doc.Components.SecuritySchemes) == 0 {
		g.doc.Components.SecuritySchemes = nil
	}
	if _, err := g.doc.encode(); err != nil {
		return nil, fmt.Errorf("cosworth/openapi: the document does not encode as JSON: %w", err)
	}
	return g.doc, nil
}

// collect walks r and groups its routes by pattern, sorted.
func collect(r chi.Routes) ([]*route, error) {
	byPattern := map[string]*route{}
	err := chi.Walk(r, func(method, pattern string, h http.Handler, _ ...func(http.Handler) http.Handler) error {
		rt := byPattern[pattern]
		if rt == nil {
			path, params, ok := convertPattern(pattern)
			if !ok {
				path = ""
			}
			rt = &route{pattern: pattern, path: path, params: params, handlers: map[string]http.Handler{}}
			byPattern[pattern] = rt
		}
		rt.methods = append(rt.methods, method)
		rt.handlers[method] = h
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cosworth/openapi: walking the routes: %w", err)
	}
	out := make([]*route, 0, len(byPattern))
	for _, k := range sortedKeys(byPattern) {
		out = append(out, byPattern[k])
	}
	return out, nil
}

// convertPattern turns a chi pattern into an OpenAPI path: {id} stays,
// {id:[0-9]+} becomes {id} with the pattern kept for the parameter's
// schema. A pattern with a wildcard (*) has no OpenAPI path (ok false).
func convertPattern(p string) (string, []pathParam, bool) {
	var b strings.Builder
	var params []pathParam
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '*':
			return "", nil, false
		case '{':
			depth, j := 1, i+1
			for ; j < len(p) && depth > 0; j++ {
				switch p[j] {
				case '{':
					depth++
				case '}':
					depth--
				}
			}
			if depth != 0 {
				return "", nil, false
			}
			inner := p[i+1 : j-1]
			name, rx, _ := strings.Cut(inner, ":")
			if rx != "" {
				if !strings.HasPrefix(rx, "^") {
					rx = "^" + rx
				}
				if !strings.HasSuffix(rx, "$") {
					rx += "$"
				}
			}
			params = append(params, pathParam{name: name, pattern: rx})
			b.WriteString("{" + name + "}")
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), params, true
}

// describer finds the views.Describer behind h.
func describer(h http.Handler) views.Describer {
	return behind[views.Describer](h)
}

// behind finds the D behind h, through chi's middleware chains and
// handlers that Unwrap (at most 16 deep); the zero D when there is none.
func behind[D any](h http.Handler) D {
	var none D
	for range 16 {
		if d, ok := h.(D); ok {
			return d
		}
		switch u := h.(type) {
		case *chi.ChainHandler:
			h = u.Endpoint
		case unwrapper:
			h = u.Unwrap()
		default:
			return none
		}
		if h == nil {
			return none
		}
	}
	return none
}

// describe calls d.Describe, turning a setup panic into an error.
func describe(pattern string, d views.Describer) (info views.Info, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("cosworth/openapi: the view at %s is misconfigured: %v", pattern, v)
		}
	}()
	return d.Describe(), nil
}

// route documents the generic views of one route.
func (g *generator) route(rt *route) error {
	if rt.path == "" {
		return nil
	}
	if ok, err := g.actionRoute(rt); ok || err != nil {
		return err
	}
	configured, inConfig := g.cfg.Views[rt.pattern]
	infos := map[views.Describer]*views.Info{}
	for _, m := range methods {
		if _, ok := g.cfg.Operations[m+" "+rt.pattern]; ok {
			continue // registered: manual adds it
		}
		d := configured
		if !inConfig {
			h, ok := rt.handlers[m]
			if !ok {
				continue
			}
			if d = describer(h); d == nil {
				continue
			}
		}
		info, ok := infos[d]
		if md, byMethod := d.(views.MethodDescriber); byMethod {
			ok = false // a viewset route with a configuration per action
			d = methodDescriber{md, m}
		}
		if !ok {
			i, err := describe(rt.pattern, d)
			if err != nil {
				return err
			}
			if i.Plan == nil || i.Model == nil {
				return fmt.Errorf("cosworth/openapi: the view at %s describes no model or plan", rt.pattern)
			}
			info = &i
			infos[d] = info
		}
		if !slices.Contains(info.Methods, m) {
			continue
		}
		op, err := g.operation(rt, info, m)
		if err != nil {
			return err
		}
		g.put(rt.path, m, op)
	}
	return nil
}

// put adds op to the document.
func (g *generator) put(path, method string, op *Operation) {
	item := g.doc.Paths[path]
	if item == nil {
		item = &PathItem{}
		g.doc.Paths[path] = item
	}
	*item.slot(method) = op
}

// manual adds the registered operations.
func (g *generator) manual(routes []*route) error {
	for _, key := range sortedKeys(g.cfg.Operations) {
		op := g.cfg.Operations[key]
		method, pattern, ok := strings.Cut(strings.TrimSpace(key), " ")
		method = strings.ToUpper(method)
		pattern = strings.TrimSpace(pattern)
		if !ok || !slices.Contains(methods, method) {
			return fmt.Errorf("cosworth/openapi: Operations key %q is not \"METHOD /path\" with a method among %s", key, strings.Join(methods, ", "))
		}
		i := slices.IndexFunc(routes, func(rt *route) bool { return rt.pattern == pattern })
		if i < 0 {
			return fmt.Errorf("cosworth/openapi: Operations key %q names no route of the router", key)
		}
		rt := routes[i]
		if !slices.Contains(rt.methods, method) {
			return fmt.Errorf("cosworth/openapi: Operations key %q: the route does not answer %s", key, method)
		}
		if rt.path == "" {
			return fmt.Errorf("cosworth/openapi: Operations key %q: a wildcard route has no OpenAPI path", key)
		}
		if op == nil {
			return fmt.Errorf("cosworth/openapi: Operations key %q has a nil Operation", key)
		}
		c := *op
		c.Responses = maps.Clone(c.Responses) // the caller's map is not changed
		if c.Responses == nil {
			c.Responses = map[string]*Response{"200": {Description: "OK"}}
		}
		addCommonResponses(&c)
		if c.OperationID == "" {
			c.OperationID = operationID(rt.path, strings.ToLower(method))
		}
		if c.Tags == nil {
			if t := tagOf(rt.path); t != "" {
				c.Tags = []string{t}
			}
		}
		if err := g.claimID(c.OperationID, key); err != nil {
			return err
		}
		for _, p := range rt.params {
			if !slices.ContainsFunc(c.Parameters, func(q *Parameter) bool { return q.In == "path" && q.Name == p.name }) {
				c.Parameters = append(c.Parameters, &Parameter{Name: p.name, In: "path", Required: true, Schema: &Schema{Type: Types{"string"}, Pattern: p.pattern}})
			}
		}
		for name, s := range op.Schemas {
			g.doc.Components.Schemas[name] = s
		}
		g.put(rt.path, method, &c)
	}
	return nil
}

// addCommonResponses adds to a registered operation the responses every
// Cosworth endpoint can give, unless the operation lists them itself: with
// a request body, 413 and 415 (views.ReadJSON's bounds); always a default
// error (429, 503 and 500 come from throttles, the server's bounds and
// faults, with DRF's {"detail": ...} body).
func addCommonResponses(op *Operation) {
	if op.RequestBody != nil {
		if op.Responses["413"] == nil {
			op.Responses["413"] = responseDetail("The request body is too large.")
		}
		if op.Responses["415"] == nil {
			op.Responses["415"] = responseDetail("The request body is not JSON.")
		}
	}
	if op.Responses["default"] == nil {
		op.Responses["default"] = responseDefault()
	}
}

// claimID records an operationId, refusing a duplicate.
func (g *generator) claimID(id, where string) error {
	if prev, ok := g.ids[id]; ok {
		return fmt.Errorf("cosworth/openapi: operationId %q of %s is also the operationId of %s; set OperationID on one", id, where, prev)
	}
	g.ids[id] = where
	return nil
}

// tagOf is the first path segment that is not "api", a version ("v1") or
// a parameter.
func tagOf(path string) string {
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" || seg == "api" || strings.HasPrefix(seg, "{") || isVersion(seg) {
			continue
		}
		return seg
	}
	return ""
}

func isVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, c := range s[1:] {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// operationID is drf-spectacular's: the path's segments without "api",
// versions and parameters, joined with "_", then the action.
func operationID(path, action string) string {
	var parts []string
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" || seg == "api" || strings.HasPrefix(seg, "{") || isVersion(seg) {
			continue
		}
		parts = append(parts, strings.Map(func(r rune) rune {
			if r == '-' || r == '.' {
				return '_'
			}
			return r
		}, seg))
	}
	parts = append(parts, action)
	return strings.Join(parts, "_")
}

// registerModel adds the component schemas of a view's model and returns
// their base name. Views of the same model with equal schemas share them;
// a model serialized differently by another view gets a numbered name
// (Book2).
func (g *generator) registerModel(info *views.Info, request, patch bool) string {
	base := modelName(info.Model, info.Name)
	resp := g.modelSchema(base, info.Plan, useResponse)
	key := mustJSON(resp)
	name := base
	for n := 2; ; n++ {
		prev, ok := g.names[name]
		if !ok || prev == key {
			break
		}
		name = fmt.Sprintf("%s%d", base, n)
	}
	g.names[name] = key
	g.doc.Components.Schemas[name] = resp
	if request {
		g.doc.Components.Schemas[name+"Request"] = g.modelSchema(base, info.Plan, useRequest)
	}
	if patch {
		g.doc.Components.Schemas["Patched"+name+"Request"] = g.modelSchema(base, info.Plan, usePatch)
	}
	return name
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%p", v)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lookupSchema is the schema of a detail view's lookup value.
func lookupSchema(info *views.Info) *Schema {
	for i := range info.Plan.Fields {
		if f := &info.Plan.Fields[i]; f.Name == info.LookupField {
			return typeSchema(f.Type, 0)
		}
	}
	return &Schema{Type: Types{"string"}}
}
