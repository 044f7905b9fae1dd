package serializers

import (
	"net/http"

	"github.com/cosworth/cosworth/internal/jsonbody"
)

// ValidationError is a 400 with DRF's body: {"field": ["message", ...]} and
// cross-field messages under "non_field_errors". Fields keeps the order in
// which problems were found.
type ValidationError struct {
	Fields []FieldError
}

// FieldError is the list of messages for one field.
type FieldError struct {
	Field    string // JSON name, or NonFieldErrors
	Messages []string
}

// NonFieldErrors is the key DRF uses for errors that belong to no field.
const NonFieldErrors = "non_field_errors"

// Add appends msg to field's messages.
func (e *ValidationError) Add(field, msg string) {
	for i := range e.Fields {
		if e.Fields[i].Field == field {
			e.Fields[i].Messages = append(e.Fields[i].Messages, msg)
			return
		}
	}
	e.Fields = append(e.Fields, FieldError{Field: field, Messages: []string{msg}})
}

// Error summarises the first problem.
func (e *ValidationError) Error() string {
	if len(e.Fields) == 0 || len(e.Fields[0].Messages) == 0 {
		return "invalid input"
	}
	return e.Fields[0].Field + ": " + e.Fields[0].Messages[0]
}

// StatusCode is 400.
func (e *ValidationError) StatusCode() int { return http.StatusBadRequest }

// AppendJSON appends DRF's body for the error to dst:
// {"field": ["message", ...], ...}, fields in the order found. An empty
// error is {"non_field_errors": ["Invalid input."]}.
func (e *ValidationError) AppendJSON(dst []byte) []byte {
	if len(e.Fields) == 0 {
		return append(dst, `{"non_field_errors":["Invalid input."]}`...)
	}
	dst = append(dst, '{')
	for i, f := range e.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonbody.AppendString(dst, f.Field)
		dst = append(dst, ':', '[')
		for j, m := range f.Messages {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = jsonbody.AppendString(dst, m)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// ParseError is a request body that is not acceptable JSON: a 400 with
// {"detail": "JSON parse error - <reason>"}.
type ParseError struct {
	Reason string
}

// Error is DRF's detail text: "JSON parse error - <reason>".
func (e *ParseError) Error() string { return "JSON parse error - " + e.Reason }

// StatusCode is 400.
func (e *ParseError) StatusCode() int { return http.StatusBadRequest }
