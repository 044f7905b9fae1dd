package views

import (
	"net/http"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/throttling"
)

// Defaults are project-wide settings, the counterpart of DRF's
// REST_FRAMEWORK setting (DEFAULT_PERMISSION_CLASSES,
// DEFAULT_THROTTLE_CLASSES, DEFAULT_PAGINATION_CLASS,
// DEFAULT_FILTER_BACKENDS, ...). They are a value, not a global: give them
// to a router (SimpleRouter.Defaults), which hands them to every viewset
// it mounts and to its API root, or to ApplyDefaults for a view mounted by
// hand. A view or viewset takes a default only where it sets nothing of
// its own. Authentication is not a default: authenticators run as
// middleware (authentication.Middleware) in front of every route.
type Defaults struct {
	// Permissions replace a nil Permissions. A view that wants no
	// permission at all under non-empty defaults sets
	// []permissions.Permission{permissions.AllowAny}, as a DRF view sets
	// permission_classes = [AllowAny].
	Permissions []permissions.Permission
	// Throttles replace a nil Throttles; an empty non-nil slice keeps none.
	Throttles []throttling.Throttle
	// Paginator replaces a nil Paginator of list views; a view that
	// wants an unpaginated list under a default paginator sets
	// Unpaginated (DRF's pagination_class = None).
	Paginator pagination.Paginator
	// Filters are added after a list view's own Filters (DRF's
	// DEFAULT_FILTER_BACKENDS beyond search, ordering and field filters,
	// which each view names the fields of).
	Filters []filters.Filter
	// SearchParam and OrderingParam replace empty fields of the same name
	// (DRF's SEARCH_PARAM and ORDERING_PARAM).
	SearchParam, OrderingParam string
	// Timeout, MaxBodyBytes and MaxResults replace zero values of the
	// fields of the same name.
	Timeout      time.Duration
	MaxBodyBytes int64
	MaxResults   int
}

// Unpaginated is the Paginator of a list view that serves a plain JSON
// array although Defaults name a paginator. It only has a meaning for
// Defaults: ApplyDefaults and the viewsets turn it into no paginator.
var Unpaginated pagination.Paginator = unpaginated{}

type unpaginated struct{}

func (unpaginated) Apply(_ *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, pagination.Window, error) {
	return q, pagination.Window{}, errUnpaginated
}

func (unpaginated) Page(*http.Request, pagination.Window, int64, any) (*pagination.Page, error) {
	return nil, errUnpaginated
}

// errUnpaginated is the error of Unpaginated used as a paginator, which
// only happens to a view given it without ApplyDefaults: a 500 that the
// log explains.
var errUnpaginated = errorString("cosworth/views: views.Unpaginated is a Defaults marker; call views.ApplyDefaults on the view")

type errorString string

func (e errorString) Error() string { return string(e) }

// ApplyDefaults sets the fields of g that are unset to d's values (see
// Defaults for what unset means). Call it before g serves its first
// request, for a generic view mounted by hand:
//
//	recent := &views.ListView[Book]{DB: db}
//	views.ApplyDefaults((*views.Generic[Book])(recent), defaults)
//
// Viewsets registered on a router get the router's Defaults without it.
func ApplyDefaults[T any](g *Generic[T], d Defaults) {
	if g.Permissions == nil {
		g.Permissions = d.Permissions
	}
	if g.Throttles == nil {
		g.Throttles = d.Throttles
	}
	if g.Paginator == nil {
		g.Paginator = d.Paginator
	}
	if g.Paginator == Unpaginated {
		g.Paginator = nil
	}
	if len(d.Filters) > 0 {
		g.Filters = append(g.Filters[:len(g.Filters):len(g.Filters)], d.Filters...)
	}
	if g.SearchParam == "" {
		g.SearchParam = d.SearchParam
	}
	if g.OrderingParam == "" {
		g.OrderingParam = d.OrderingParam
	}
	if g.Timeout <= 0 {
		g.Timeout = d.Timeout
	}
	if g.MaxBodyBytes <= 0 {
		g.MaxBodyBytes = d.MaxBodyBytes
	}
	if g.MaxResults <= 0 {
		g.MaxResults = d.MaxResults
	}
}
