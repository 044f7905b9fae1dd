package openapi

// Component schemas of DRF's error bodies.
const (
	// SchemaError is {"detail": message}: 401, 403, 404, 405, 415, 429 and
	// every other error without field errors.
	SchemaError = "Error"
	// SchemaValidationError is a 400: {"field": ["message", ...], ...},
	// cross-field errors under "non_field_errors", or {"detail": message}
	// for a body that is not valid JSON.
	SchemaValidationError = "ValidationError"
)

// errorSchemas adds the error components.
func (g *generator) errorSchemas() {
	s := g.doc.Components.Schemas
	if _, ok := s[SchemaError]; !ok {
		s[SchemaError] = errorSchema()
	}
	if _, ok := s[SchemaValidationError]; !ok {
		s[SchemaValidationError] = validationSchema()
	}
}

func errorSchema() *Schema {
	e := &Schema{Type: Types{"object"}, Properties: &Properties{}, Required: []string{"detail"}}
	e.Properties.Set("detail", &Schema{Type: Types{"string"}})
	// simplejwt's rejections of a token add a code and per-class messages.
	e.Properties.Set("code", &Schema{Type: Types{"string"}, Examples: []any{"token_not_valid"}})
	msg := &Schema{Type: Types{"object"}, Properties: &Properties{}}
	for _, n := range []string{"token_class", "token_type", "message"} {
		msg.Properties.Set(n, &Schema{Type: Types{"string"}})
	}
	e.Properties.Set("messages", &Schema{Type: Types{"array"}, Items: msg})
	return e
}

func validationSchema() *Schema {
	v := &Schema{Type: Types{"object"}, Properties: &Properties{},
		Description:          `Field errors: each field's messages, cross-field errors under "non_field_errors"; a body that is not valid JSON answers {"detail": message}.`,
		AdditionalProperties: &Schema{Type: Types{"array"}, Items: &Schema{Type: Types{"string"}}},
	}
	v.Properties.Set("detail", &Schema{Type: Types{"string"}})
	v.Properties.Set("non_field_errors", &Schema{Type: Types{"array"}, Items: &Schema{Type: Types{"string"}}})
	return v
}

// JSONResponse returns a response with an application/json body of schema s.
func JSONResponse(description string, s *Schema) *Response {
	return &Response{Description: description, Content: map[string]MediaType{"application/json": {Schema: s}}}
}

// JSONBody returns a required request body of schema s, in application/json.
func JSONBody(s *Schema) *RequestBody {
	return &RequestBody{Required: true, Content: map[string]MediaType{"application/json": {Schema: s}}}
}

// ErrorResponse returns a response with DRF's {"detail": message} body.
func ErrorResponse(description string) *Response { return responseDetail(description) }

// ValidationResponse returns DRF's 400 response with field errors.
func ValidationResponse() *Response { return responseValidation() }

func responseDetail(description string) *Response {
	return JSONResponse(description, Ref(SchemaError))
}

func responseDefault() *Response {
	return responseDetail("Error: {\"detail\": message}, e.g. 429 when throttled (with Retry-After), 503 when a backend is unavailable, 500.")
}

func responseValidation() *Response {
	return JSONResponse("Invalid input: field errors.", Ref(SchemaValidationError))
}

func responseUnauthorized(required bool) *Response {
	desc := "Rejected credentials (an invalid or expired token)."
	if required {
		desc = "Missing or rejected credentials."
	}
	r := responseDetail(desc)
	r.Headers = map[string]*Header{"WWW-Authenticate": {Description: "The challenge of the first authenticator.", Schema: &Schema{Type: Types{"string"}}}}
	return r
}
