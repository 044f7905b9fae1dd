package openapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/views"
)

// PaginatorDescriber is implemented by a custom pagination.Paginator so
// Generate can document it: the query parameters it reads and the envelope
// around a page of results (results is the schema of one item). Without
// it, Generate knows pagination.PageNumber, LimitOffset and Cursor (and
// pointers to them) and refuses other paginators.
type PaginatorDescriber interface {
	OpenAPIParameters() []*Parameter
	OpenAPIEnvelope(item *Schema) *Schema
}

// DRF's descriptions of the standard query parameters.
const (
	descPage     = "A page number within the paginated result set."
	descPageSize = "Number of results to return per page."
	descLimit    = "Number of results to return per page."
	descOffset   = "The initial index from which to return the results."
	descCursor   = "The pagination cursor value."
	descSearch   = "A search term."
	descOrdering = "Which field to use when ordering the results."
)

// operation builds the operation of method on a generic view.
func (g *generator) operation(rt *route, info *views.Info, method string) (*Operation, error) {
	key := method + " " + rt.pattern
	var action string
	switch {
	case method == "GET" && !info.Detail:
		action = "list"
	case method == "GET":
		action = "retrieve"
	case method == "POST":
		action = "create"
	case method == "PUT":
		action = "update"
	case method == "PATCH":
		action = "partial_update"
	case method == "DELETE":
		action = "destroy"
	}
	name := g.registerModel(info, hasAny(info.Methods, "POST", "PUT"), hasAny(info.Methods, "PATCH"))
	verbose := info.Plan.Meta.VerboseName
	op := &Operation{
		OperationID: operationID(rt.path, action),
		Responses:   map[string]*Response{},
	}
	if t := tagOf(rt.path); t != "" {
		op.Tags = []string{t}
	}
	if err := g.claimID(op.OperationID, key); err != nil {
		return nil, err
	}

	// Path parameters.
	for _, p := range rt.params {
		param := &Parameter{Name: p.name, In: "path", Required: true}
		if info.Detail && p.name == info.URLParam {
			param.Schema = lookupSchema(info)
			param.Description = "A unique value identifying this " + verbose + "."
			if info.LookupField == "id" && param.Schema.Type.Has("integer") {
				param.Description = "A unique integer value identifying this " + verbose + "."
			}
		} else {
			param.Schema = &Schema{Type: Types{"string"}}
		}
		if p.pattern != "" {
			param.Schema.Pattern = p.pattern
		}
		op.Parameters = append(op.Parameters, param)
	}

	json := func(s *Schema) map[string]MediaType {
		return map[string]MediaType{"application/json": {Schema: s}}
	}
	switch action {
	case "list":
		op.Summary = "List " + plural(verbose)
		item := Ref(name)
		params, body, invalidPage, err := g.pagination(info.Paginator, name, item)
		if err != nil {
			return nil, fmt.Errorf("cosworth/openapi: the view at %s: %w", rt.pattern, err)
		}
		op.Parameters = append(op.Parameters, params...)
		op.Parameters = append(op.Parameters, g.filterParams(info)...)
		op.Responses["200"] = &Response{Description: "OK", Content: json(body)}
		if len(info.Filter) > 0 || len(info.Parameters) > 0 {
			op.Responses["400"] = responseValidation()
		}
		if invalidPage {
			op.Responses["404"] = responseDetail("Not found: the page or cursor does not exist, or ?format= is not json.")
		}
	case "retrieve":
		op.Summary = "Retrieve " + article(verbose)
		op.Responses["200"] = &Response{Description: "OK", Content: json(Ref(name))}
		op.Responses["404"] = responseDetail(drfmsg.NotFound)
	case "create":
		op.Summary = "Create " + article(verbose)
		op.RequestBody = &RequestBody{Required: true, Content: json(Ref(name + "Request"))}
		op.Responses["201"] = &Response{Description: "Created", Content: json(Ref(name))}
		if info.Bulk > 0 {
			// AllowBulk: an array of objects too, answered with an array.
			op.RequestBody.Content = json(&Schema{OneOf: []*Schema{Ref(name + "Request"),
				{Type: Types{"array"}, Items: Ref(name + "Request"), MaxItems: intp(info.Bulk)}}})
			op.Responses["201"].Content = json(&Schema{OneOf: []*Schema{Ref(name), {Type: Types{"array"}, Items: Ref(name)}}})
		}
	case "update":
		op.Summary = "Update " + article(verbose)
		op.RequestBody = &RequestBody{Required: true, Content: json(Ref(name + "Request"))}
		op.Responses["200"] = &Response{Description: "OK", Content: json(Ref(name))}
		op.Responses["404"] = responseDetail(drfmsg.NotFound)
	case "partial_update":
		op.Summary = "Partially update " + article(verbose)
		op.RequestBody = &RequestBody{Content: json(Ref("Patched" + name + "Request"))}
		op.Responses["200"] = &Response{Description: "OK", Content: json(Ref(name))}
		op.Responses["404"] = responseDetail(drfmsg.NotFound)
	case "destroy":
		op.Summary = "Delete " + article(verbose)
		op.Responses["204"] = &Response{Description: "No content"}
		op.Responses["404"] = responseDetail(drfmsg.NotFound)
	}
	if op.RequestBody != nil {
		op.Responses["400"] = responseValidation()
		op.Responses["413"] = responseDetail("The request body is too large.")
		op.Responses["415"] = responseDetail("The request body is not JSON.")
	}
	negotiation(op)
	if info.ETag {
		conditional(op, action)
	}
	g.security(op, info, method, rt.path)
	op.Responses["default"] = responseDefault()
	return op, nil
}

// negotiation documents the content negotiation every view runs first
// (views' DRF DefaultContentNegotiation with JSON its one renderer):
// ?format= other than json is 404, an Accept header that admits no JSON
// is 406.
func negotiation(op *Operation) {
	if !slices.ContainsFunc(op.Parameters, func(p *Parameter) bool { return p.In == "query" && p.Name == "format" }) {
		op.Parameters = append(op.Parameters, &Parameter{Name: "format", In: "query",
			Description: "The format of the answer; json, the only one, is the default. Another is 404.",
			Schema:      &Schema{Type: Types{"string"}, Enum: []any{"json"}}})
	}
	if op.Responses["404"] == nil {
		op.Responses["404"] = responseDetail("Not found: ?format= is not json.")
	}
	op.Responses["406"] = responseDetail(`Not acceptable: the Accept header admits no JSON: {"detail": "` + drfmsg.NotAcceptable + `"}`)
}

// conditional documents the conditional requests of a view with ETags
// (views.Info.ETag): a 200 answer to GET (an object or a list page), PUT
// or PATCH carries an ETag; GET answers 304 without a body when
// If-None-Match names it; a failed If-Match (and, on writes, a matching
// If-None-Match) is 412, the write not made.
func conditional(op *Operation, action string) {
	read := action == "list" || action == "retrieve"
	if !read && action != "update" && action != "partial_update" && action != "destroy" {
		return // create
	}
	ifMatch := &Parameter{Name: "If-Match", In: "header", Schema: &Schema{Type: Types{"string"}},
		Description: "Entity tags, comma-separated, or *: answer only if the current ETag is among them (strong comparison), else 412."}
	ifNoneMatch := &Parameter{Name: "If-None-Match", In: "header", Schema: &Schema{Type: Types{"string"}},
		Description: "Entity tags, comma-separated, or *: if the current ETag is among them (weak comparison), 304 without a body."}
	if !read {
		ifMatch.Description = "Entity tags, comma-separated, or *: change the object only if its current ETag is among them (strong comparison; * matches any existing object), else 412."
		ifNoneMatch.Description = "Entity tags, comma-separated, or *: if the object's current ETag is among them (* matches any existing object), 412."
	}
	op.Parameters = append(op.Parameters, ifMatch, ifNoneMatch)
	if ok := op.Responses["200"]; ok != nil {
		ok.Headers = map[string]*Header{"ETag": etagHeader()}
	}
	if read {
		op.Responses["304"] = &Response{Description: "Not modified: If-None-Match names the current ETag. No body.",
			Headers: map[string]*Header{"ETag": etagHeader()}}
	}
	op.Responses["412"] = responseDetail(`Precondition failed: {"detail": "` + drfmsg.PreconditionFailed + `"}`)
}

// etagHeader is the ETag of a view's answer: the CRC-32C and CRC-32 of the
// representation's bytes, 16 hex digits, quoted.
func etagHeader() *Header {
	return &Header{Description: "The strong entity tag of the representation: a checksum of its bytes.",
		Schema: &Schema{Type: Types{"string"}, Pattern: `^"[0-9a-f]{16}"$`, Examples: []any{`"c2d0e0235a8c2993"`}}}
}

// pagination returns the query parameters and the 200 body of a list,
// and whether a page can be missing (404).
func (g *generator) pagination(p pagination.Paginator, name string, item *Schema) ([]*Parameter, *Schema, bool, error) {
	switch pg := p.(type) {
	case nil:
		return nil, &Schema{Type: Types{"array"}, Items: item}, false, nil
	case PaginatorDescriber:
		env := pg.OpenAPIEnvelope(item)
		return pg.OpenAPIParameters(), env, true, nil
	case pagination.PageNumber:
		return g.pageNumber(pg, name, item)
	case *pagination.PageNumber:
		return g.pageNumber(*pg, name, item)
	case pagination.LimitOffset:
		return g.limitOffset(pg, name, item)
	case *pagination.LimitOffset:
		return g.limitOffset(*pg, name, item)
	case pagination.Cursor:
		return g.cursor(pg, name, item)
	case *pagination.Cursor:
		return g.cursor(*pg, name, item)
	}
	return nil, nil, false, fmt.Errorf("paginator %T is unknown to package openapi; implement openapi.PaginatorDescriber", p)
}

func (g *generator) pageNumber(p pagination.PageNumber, name string, item *Schema) ([]*Parameter, *Schema, bool, error) {
	page := p.PageQueryParam
	if page == "" {
		page = "page"
	}
	params := []*Parameter{{Name: page, In: "query", Description: descPage, Schema: &Schema{Type: Types{"integer"}}}}
	sizeParam := p.PageSizeQueryParam
	if sizeParam == "" {
		sizeParam = "page_size"
	}
	if sizeParam != "-" {
		maxSize := p.MaxPageSize
		if maxSize <= 0 {
			maxSize = pagination.DefaultMaxPageSize
		}
		size := p.PageSize
		if size <= 0 {
			size = pagination.DefaultPageSize
		}
		params = append(params, &Parameter{Name: sizeParam, In: "query",
			Description: fmt.Sprintf("%s Default %d, at most %d.", descPageSize, min(size, maxSize), maxSize),
			Schema:      &Schema{Type: Types{"integer"}}})
	}
	return params, g.envelope("Paginated"+name+"List", item, true, "?"+page+"=4", "?"+page+"=2"), true, nil
}

func (g *generator) limitOffset(p pagination.LimitOffset, name string, item *Schema) ([]*Parameter, *Schema, bool, error) {
	maxLimit := p.MaxLimit
	if maxLimit <= 0 {
		maxLimit = pagination.DefaultMaxPageSize
	}
	limit := p.DefaultLimit
	if limit <= 0 {
		limit = pagination.DefaultPageSize
	}
	lp, op := p.Params()
	params := []*Parameter{
		{Name: lp, In: "query", Description: fmt.Sprintf("%s Default %d, at most %d.", descLimit, min(limit, maxLimit), maxLimit), Schema: &Schema{Type: Types{"integer"}}},
		{Name: op, In: "query", Description: descOffset, Schema: &Schema{Type: Types{"integer"}}},
	}
	return params, g.envelope("Paginated"+name+"List", item, true, "?"+op+"=400&"+lp+"=100", "?"+op+"=200&"+lp+"=100"), false, nil
}

func (g *generator) cursor(p pagination.Cursor, name string, item *Schema) ([]*Parameter, *Schema, bool, error) {
	param := p.QueryParam
	if param == "" {
		param = "cursor"
	}
	params := []*Parameter{{Name: param, In: "query", Description: descCursor, Schema: &Schema{Type: Types{"string"}}}}
	return params, g.envelope("CursorPaginated"+name+"List", item, false, "?"+param+"=cD00ODY%3D", "?"+param+"=cj0xJnA9NDg3"), true, nil
}

// envelope registers DRF's paginated envelope around item and returns a
// reference to it.
func (g *generator) envelope(name string, item *Schema, count bool, next, prev string) *Schema {
	s := &Schema{Type: Types{"object"}, Properties: &Properties{}}
	if count {
		s.Properties.Set("count", &Schema{Type: Types{"integer"}, Examples: []any{123}})
		s.Required = append(s.Required, "count")
	}
	s.Properties.Set("next", &Schema{Type: Types{"string", "null"}, Format: "uri", Examples: []any{"http://api.example.org/accounts/" + next}})
	s.Properties.Set("previous", &Schema{Type: Types{"string", "null"}, Format: "uri", Examples: []any{"http://api.example.org/accounts/" + prev}})
	s.Properties.Set("results", &Schema{Type: Types{"array"}, Items: item})
	s.Required = append(s.Required, "next", "previous", "results")
	g.doc.Components.Schemas[name] = s
	return Ref(name)
}

// filterParams documents ?search=, ?ordering= and the field filters.
func (g *generator) filterParams(info *views.Info) []*Parameter {
	var out []*Parameter
	seen := map[string]bool{}
	for _, prm := range info.Parameters {
		if seen[prm.Name] || prm.Name == info.OrderingParam && len(info.Ordering) > 0 || prm.Name == info.SearchParam && len(info.Search) > 0 {
			continue
		}
		seen[prm.Name] = true
		out = append(out, filterParam(prm))
	}
	if len(info.Ordering) > 0 {
		out = append(out, &Parameter{Name: info.OrderingParam, In: "query",
			Description: descOrdering + " Comma-separated fields among " + quoteList(info.Ordering) +
				"; prefix a field with - for descending order. Unknown fields are ignored.",
			Schema: &Schema{Type: Types{"string"}}})
	}
	if len(info.Search) > 0 {
		out = append(out, &Parameter{Name: info.SearchParam, In: "query",
			Description: descSearch + " Matches, case-insensitively, any of " + quoteList(info.Search) + ".",
			Schema:      &Schema{Type: Types{"string"}}})
	}
	return out
}

// filterParam documents a filter's query parameter: typed by its field,
// a comma-separated list (style form, not exploded) for in and range.
func filterParam(prm filters.Parameter) *Parameter {
	s := &Schema{Type: Types{"string"}}
	if prm.Type != nil {
		s = typeSchema(prm.Type, 0)
	}
	p := &Parameter{Name: prm.Name, In: "query", Description: prm.Description, Schema: s}
	if prm.List {
		explode := false
		p.Style, p.Explode = "form", &explode
		p.Schema = &Schema{Type: Types{"array"}, Items: s}
	}
	return p
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}

func hasAny(list []string, want ...string) bool {
	for _, w := range want {
		for _, l := range list {
			if l == w {
				return true
			}
		}
	}
	return false
}

// plural is a plain English plural: books, categories, boxes.
func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "ch"), strings.HasSuffix(s, "sh"):
		return s + "es"
	}
	return s + "s"
}

// article prefixes a or an.
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}
