// Package filters narrows and orders list queries from the query string:
// Search (?search=, case-insensitive contains over whitelisted fields),
// Ordering (?ordering=, whitelisted fields, "-" for descending) and Fields
// (?field=value exact matches, typed by the model field). Every column name
// comes from a whitelist checked against the model's bun schema when the
// filter is built; no user text ever becomes SQL text.
package filters

import (
	"net/http"

	"github.com/uptrace/bun"
)

// Filter narrows or orders q from r's query string. It returns a
// *FieldError for a query parameter with a bad value.
type Filter interface {
	Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, error)
}

// FieldError is a query parameter whose value does not fit its field: a 400
// {"field": ["message"]}.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// StatusCode is 400.
func (e *FieldError) StatusCode() int { return http.StatusBadRequest }
