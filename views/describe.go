package views

import (
	"reflect"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
)

// Info describes a view for schema generation (package openapi): what it
// serves and how. It is built once when the view is first used.
type Info struct {
	Model       reflect.Type // T
	Name        string       // T's name, e.g. "Book"
	Plan        *serializers.Plan
	Methods     []string // allowed methods, e.g. GET, HEAD, POST
	Detail      bool     // true for views over one object ({id} in the path)
	URLParam    string   // chi URL parameter of a detail view
	LookupField string   // JSON name of the lookup field
	Paginator   pagination.Paginator
	Search      []string
	Ordering    []string
	// SearchParam and OrderingParam are the query parameters of Search
	// and Ordering ("search" and "ordering" unless renamed).
	SearchParam, OrderingParam string
	Filter                     []string
	// Parameters are the query parameters of the field filters (Filter)
	// and of the Filters that implement filters.Parameterized, in order.
	Parameters  []filters.Parameter
	Permissions []permissions.Permission
	Bulk        int // the bound of a bulk create (AllowBulk's MaxBulk); 0 when off
	// ETag reports conditional requests (Generic.NoETag unset): 200
	// answers to GET, HEAD, PUT and PATCH carry an ETag, and If-Match and
	// If-None-Match are evaluated (304, 412).
	ETag bool
}

// Describer is implemented by every generic view.
type Describer interface {
	Describe() Info
}
