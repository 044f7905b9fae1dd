package openapi

import (
	"bytes"
	"encoding/json"
)

// Version is the OpenAPI version of generated documents.
const Version = "3.1.0"

// Document is an OpenAPI 3.1 document. Generate builds one from a chi
// router; every field can be changed before it is served. Maps are written
// with sorted keys, so the JSON is deterministic.
type Document struct {
	OpenAPI    string               `json:"openapi"`
	Info       Info                 `json:"info"`
	Servers    []Server             `json:"servers,omitempty"`
	Paths      map[string]*PathItem `json:"paths"`
	Components Components           `json:"components,omitzero"`
	Tags       []Tag                `json:"tags,omitempty"`
}

// Info is the document's metadata.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Server is a base URL the API is served at.
type Server struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
}

// Tag describes a tag operations are grouped by.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// PathItem holds the operations of one path.
type PathItem struct {
	Summary     string     `json:"summary,omitempty"`
	Description string     `json:"description,omitempty"`
	Get         *Operation `json:"get,omitempty"`
	Put         *Operation `json:"put,omitempty"`
	Post        *Operation `json:"post,omitempty"`
	Delete      *Operation `json:"delete,omitempty"`
	Patch       *Operation `json:"patch,omitempty"`
}

// Operation returns the operation of method ("GET", "POST", ...), or nil.
func (p *PathItem) Operation(method string) *Operation {
	if s := p.slot(method); s != nil {
		return *s
	}
	return nil
}

func (p *PathItem) slot(method string) **Operation {
	switch method {
	case "GET":
		return &p.Get
	case "PUT":
		return &p.Put
	case "POST":
		return &p.Post
	case "DELETE":
		return &p.Delete
	case "PATCH":
		return &p.Patch
	}
	return nil
}

// methods lists the methods a PathItem holds, in the order they are written.
var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// Operation is one method of one path. For an endpoint that is not a
// generic view (an APIView, a token endpoint), register an Operation in
// Config.Operations.
type Operation struct {
	Tags        []string             `json:"tags,omitempty"`
	Summary     string               `json:"summary,omitempty"`
	Description string               `json:"description,omitempty"`
	OperationID string               `json:"operationId,omitempty"`
	Parameters  []*Parameter         `json:"parameters,omitempty"`
	RequestBody *RequestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*Response `json:"responses"`
	// Security lists the alternative ways to authenticate; an empty
	// requirement ({}) among them means the operation may be called
	// anonymously. Nil means the document's default (none).
	Security   []SecurityRequirement `json:"security,omitempty"`
	Deprecated bool                  `json:"deprecated,omitempty"`

	// Schemas are component schemas the operation refers to (with
	// Ref(name)); Generate adds them to Components.Schemas. They are not
	// written as part of the operation.
	Schemas map[string]*Schema `json:"-"`
}

// Parameter is a path, query or header parameter.
type Parameter struct {
	Name        string `json:"name"`
	In          string `json:"in"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
	Deprecated  bool   `json:"deprecated,omitempty"`
	// Style and Explode say how a list is written: "form" with Explode
	// false is a comma-separated list (?author__in=1,2).
	Style   string  `json:"style,omitempty"`
	Explode *bool   `json:"explode,omitempty"`
	Schema  *Schema `json:"schema,omitempty"`
	Example any     `json:"example,omitempty"`
}

// RequestBody is an operation's body.
type RequestBody struct {
	Description string               `json:"description,omitempty"`
	Required    bool                 `json:"required,omitempty"`
	Content     map[string]MediaType `json:"content"`
}

// Response is one documented response.
type Response struct {
	Description string               `json:"description"`
	Headers     map[string]*Header   `json:"headers,omitempty"`
	Content     map[string]MediaType `json:"content,omitempty"`
}

// Header is a response header.
type Header struct {
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

// MediaType is the schema and examples of one content type.
type MediaType struct {
	Schema   *Schema             `json:"schema,omitempty"`
	Example  any                 `json:"example,omitempty"`
	Examples map[string]*Example `json:"examples,omitempty"`
}

// Example is a named example value.
type Example struct {
	Summary     string `json:"summary,omitempty"`
	Description string `json:"description,omitempty"`
	Value       any    `json:"value,omitempty"`
}

// Components holds the reusable parts of the document.
type Components struct {
	Schemas         map[string]*Schema         `json:"schemas,omitempty"`
	SecuritySchemes map[string]*SecurityScheme `json:"securitySchemes,omitempty"`
}

// SecurityScheme is a way to authenticate: {type: http, scheme: bearer,
// bearerFormat: JWT} for JWTs, {type: apiKey, in: header, name:
// Authorization} for DRF's "Token <key>".
type SecurityScheme struct {
	Type         string `json:"type"`
	Description  string `json:"description,omitempty"`
	Name         string `json:"name,omitempty"`
	In           string `json:"in,omitempty"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
}

// SecurityRequirement names security schemes (keys of
// Components.SecuritySchemes) that together authenticate a request; the
// values are scopes (always empty for http and apiKey schemes). An empty
// requirement means no authentication.
type SecurityRequirement map[string][]string

// JSON returns the document as indented JSON. The output is deterministic:
// map keys are sorted, slices (and schema properties) keep their order.
// Generate checks that the document encodes; JSON panics, with a message
// prefixed "cosworth/openapi:", only when a value set afterwards (an
// example) cannot be encoded as JSON.
func (d *Document) JSON() []byte {
	b, err := d.encode()
	if err != nil {
		panic("cosworth/openapi: the document does not encode as JSON: " + err.Error())
	}
	return b
}

func (d *Document) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
