package models

import (
	"net/http"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
)

// ValidationError is input that does not fit the model: DRF's
// ValidationError, a 400 whose body is {"field": ["message", ...], ...}
// with cross-field messages under NonFieldErrors. Fields keeps the order in
// which problems were found.
//
// It is the one field-error type of Cosworth: serializers return it for a
// request body, filters for a query parameter, the credential handlers of
// authentication for their bodies. It lives in models, below all of them,
// as Django's ValidationError lives below its forms and serializers.
// Return one from a serializer's Validate or a hook of your own:
//
//	ve := &models.ValidationError{}
//	ve.Add("end", "Must be after start.")
//	return ve
type ValidationError struct {
	Fields []FieldError
}

// FieldError is the list of messages for one field of a ValidationError.
type FieldError struct {
	Field    string // JSON name (or query parameter), or NonFieldErrors
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

// Error summarises the first problem: "field: message".
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
		dst = append(dst, `{"non_field_errors":[`...)
		dst = jsonbody.AppendString(dst, drfmsg.InvalidInput)
		return append(dst, ']', '}')
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
