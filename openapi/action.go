package openapi

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/views"
)

// actionDescriber finds the views.ActionDescriber (the route of a
// viewset's action) behind h.
func actionDescriber(h http.Handler) views.ActionDescriber {
	return behind[views.ActionDescriber](h)
}

// methodDescriber describes one method of a route whose configuration
// depends on the method (a viewset's PerAction).
type methodDescriber struct {
	md     views.MethodDescriber
	method string
}

func (d methodDescriber) Describe() views.Info { return d.md.DescribeMethod(d.method) }

// describeAction calls d.DescribeAction, turning a setup panic into an
// error.
func describeAction(pattern string, d views.ActionDescriber) (info views.ActionInfo, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("cosworth/openapi: the viewset action at %s is misconfigured: %v", pattern, v)
		}
	}()
	return d.DescribeAction(), nil
}

// actionRoute documents the route of a viewset's action (DRF's @action)
// and reports whether rt is one. Each method gets drf-spectacular's
// operationId ("books_discount_create"); a detail action answers its
// model (or what Operations says, for an action answering something
// else), with the request body of its own serializer.
func (g *generator) actionRoute(rt *route) (bool, error) {
	var d views.ActionDescriber
	for _, h := range rt.handlers {
		if d = actionDescriber(h); d != nil {
			break
		}
	}
	if d == nil {
		return false, nil
	}
	if rt.path == "" {
		return true, nil
	}
	info, err := describeAction(rt.pattern, d)
	if err != nil {
		return true, err
	}
	for _, m := range info.Methods {
		if m == http.MethodHead || m == http.MethodOptions {
			continue
		}
		if _, ok := g.cfg.Operations[m+" "+rt.pattern]; ok {
			continue // registered: manual adds it
		}
		op, err := g.actionOperation(rt, &info, m)
		if err != nil {
			return true, err
		}
		g.put(rt.path, m, op)
	}
	return true, nil
}

// actionOperation builds the operation of method on an action.
func (g *generator) actionOperation(rt *route, info *views.ActionInfo, method string) (*Operation, error) {
	verb := map[string]string{
		http.MethodPost: "create", http.MethodPut: "update", http.MethodPatch: "partial_update", http.MethodDelete: "destroy",
	}[method]
	if method == http.MethodGet {
		verb = "list"
		if info.Detail {
			verb = "retrieve"
		}
	}
	op := &Operation{
		OperationID: operationID(rt.path, verb),
		Summary:     prettyAction(info.Action),
		Description: info.Description,
		Responses:   map[string]*Response{},
	}
	if t := tagOf(rt.path); t != "" {
		op.Tags = []string{t}
	}
	if err := g.claimID(op.OperationID, method+" "+rt.pattern); err != nil {
		return nil, err
	}
	verbose := info.Plan.Meta.VerboseName
	for _, p := range rt.params {
		param := &Parameter{Name: p.name, In: "path", Required: true, Schema: &Schema{Type: Types{"string"}}}
		if info.Detail && p.name == info.URLParam {
			param.Schema = lookupSchema(&info.Info)
			param.Description = "A unique value identifying this " + verbose + "."
		}
		if p.pattern != "" {
			param.Schema.Pattern = p.pattern
		}
		op.Parameters = append(op.Parameters, param)
	}
	name := g.registerModel(&info.Info, false, false)
	json := func(s *Schema) map[string]MediaType {
		return map[string]MediaType{"application/json": {Schema: s}}
	}
	if info.RequestPlan != nil && method != http.MethodGet {
		req := g.modelSchema(info.Request.Name(), info.RequestPlan, useRequest)
		op.RequestBody = &RequestBody{Required: true, Content: json(req)}
		op.Responses["400"] = responseValidation()
		op.Responses["413"] = responseDetail("The request body is too large.")
		op.Responses["415"] = responseDetail("The request body is not JSON.")
	}
	switch {
	case method == http.MethodDelete:
		op.Responses["204"] = &Response{Description: "No content"}
	case info.Detail:
		op.Responses["200"] = &Response{Description: "OK", Content: json(Ref(name))}
	default:
		op.Responses["200"] = &Response{Description: "OK"}
	}
	if info.Detail {
		op.Responses["404"] = responseDetail(drfmsg.NotFound)
	}
	negotiation(op)
	g.security(op, &info.Info, method, rt.path)
	op.Responses["default"] = responseDefault()
	return op, nil
}

// prettyAction is Django's pretty_name of an action: "apply_discount" ->
// "Apply discount".
func prettyAction(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}
