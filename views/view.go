// Package views provides DRF's generic views as generic Go types over bun
// models: ListView, CreateView, RetrieveView, UpdateView, DestroyView,
// ListCreateView, RetrieveUpdateView, RetrieveDestroyView and
// RetrieveUpdateDestroyView. Each is an http.Handler configured by exported
// fields whose zero values mean DRF's defaults (or, where DRF has no bound, a
// documented safe one).
package views

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/throttling"
)

// Generic holds the configuration every generic view shares; each view type
// is defined on it, so a ListCreateView[T] literal takes these fields
// directly. Fields a view kind does not use are ignored.
type Generic[T any] struct {
	// DB runs the view's queries. Required.
	DB *bun.DB
	// Serializer decodes and encodes T; nil means one derived from T's tags.
	Serializer *serializers.Serializer[T]
	// Permissions are checked in order; nil means AllowAny (DRF's default).
	Permissions []permissions.Permission
	// Throttles are checked after permissions, as in DRF; every throttle
	// sees the request and the longest wait is reported.
	Throttles []throttling.Throttle
	// Paginator pages list results; nil means an unpaginated JSON array
	// bounded by MaxResults.
	Paginator pagination.Paginator
	// MaxResults bounds an unpaginated list; 0 means 1000.
	MaxResults int
	// Search lists the JSON field names ?search= looks in; empty disables it.
	Search []string
	// Ordering lists the JSON field names ?ordering= may name; empty disables it.
	Ordering []string
	// DefaultOrdering orders lists when ?ordering= gives none ("-created_at");
	// empty means the primary key, ascending.
	DefaultOrdering []string
	// SearchParam and OrderingParam rename the query parameters of Search
	// and Ordering (DRF's SEARCH_PARAM and ORDERING_PARAM settings, e.g.
	// "q" and "sort"); empty means Defaults' or "search" and "ordering".
	SearchParam, OrderingParam string
	// Filter lists the field filters (django-filter's filterset_fields): a
	// JSON field name for its exact value (?author=3) or field__lookup
	// (?price_cents__gte=500, ?author__in=1,2, ?published_on__isnull=true);
	// see filters.Fields for the lookups.
	Filter []string
	// Filters are extra filters applied after the built-in ones.
	Filters []filters.Filter
	// LookupField is the JSON name of the field detail views look up;
	// empty means the primary key.
	LookupField string
	// URLParam is the chi URL parameter holding the lookup value; empty
	// means "id".
	URLParam string
	// Queryset scopes every query of the view to the request (DRF's
	// get_queryset), e.g. to the caller's rows or with a Relation joined.
	// Its query runs through the view's runner like the view's own; wrap
	// request-dependent values in models.Param so that it keeps one SQL
	// text (one prepared statement on PostgreSQL) for every value.
	Queryset func(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery
	// BeforeCreate sets fields of a validated new object from the request
	// (its owner) before it is saved. Unlike PerformCreate it needs no
	// transaction, so without PerformCreate the save stays one INSERT
	// (one round trip on PostgreSQL). An error it returns is answered as
	// the view's errors are, and nothing is saved.
	BeforeCreate func(r *http.Request, obj *T) error
	// PerformCreate saves a validated new object inside the view's
	// transaction (DRF's perform_create); nil inserts it. Set fields from
	// the request (an owner) here, then call Insert.
	PerformCreate func(r *http.Request, tx bun.Tx, obj *T) error
	// PerformUpdate saves a validated changed object inside the
	// transaction that loaded it; nil updates it.
	PerformUpdate func(r *http.Request, tx bun.Tx, obj *T) error
	// PerformDestroy deletes the object inside the transaction that
	// loaded it; nil deletes it.
	PerformDestroy func(r *http.Request, tx bun.Tx, obj *T) error
	// AllowBulk lets a create view take a JSON array of objects (DRF's
	// ListSerializer, many=True): all are created in one transaction or
	// none is, answered 201 with the array of their representations, or
	// 400 with one error object per item. Without it an array is DRF's
	// "Expected a dictionary, but got list." error.
	AllowBulk bool
	// MaxBulk bounds the items of a bulk create; 0 means 100.
	MaxBulk int
	// OnCommit, when set, is called once after each create, update or
	// delete commits, with the object; it must not block (see Change).
	OnCommit func(r *http.Request, c Change, obj *T)
	// Timeout bounds the database work of one request; 0 means 10s.
	Timeout time.Duration
	// MaxBodyBytes bounds a request body; 0 means 1 MiB. A larger body is
	// answered with 413.
	MaxBodyBytes int64
	// Name is the view's name in OPTIONS responses; empty means "<T> List"
	// for list and create views and "<T> Instance" for detail views.
	Name string
	// Description is the view's description in OPTIONS responses.
	Description string
	// NoETag turns off conditional requests for the view. By default a
	// 200 answer to GET, HEAD, PUT or PATCH carries an ETag (a checksum
	// of the representation's bytes); If-None-Match is answered 304 and a
	// failed If-Match 412, and PUT, PATCH and DELETE check If-Match on
	// the row they change, before changing it (see docs/views.md).
	NoETag bool

	// optPost and optPut, set on the configurations of a viewset route,
	// are the configurations of its POST and PUT actions, whose
	// permissions and serializer OPTIONS describes; nil means this one.
	optPost, optPut *Generic[T]

	once    sync.Once
	plan    *plan[T]
	planErr any // the panic value of a failed setup, re-raised on every use
}

// ListView lists objects: GET (and HEAD).
type ListView[T any] Generic[T]

// CreateView creates an object: POST.
type CreateView[T any] Generic[T]

// RetrieveView shows one object: GET (and HEAD).
type RetrieveView[T any] Generic[T]

// UpdateView changes one object: PUT and PATCH.
type UpdateView[T any] Generic[T]

// DestroyView deletes one object: DELETE.
type DestroyView[T any] Generic[T]

// ListCreateView lists and creates objects: GET, HEAD, POST.
type ListCreateView[T any] Generic[T]

// RetrieveUpdateView shows and changes one object: GET, HEAD, PUT, PATCH.
type RetrieveUpdateView[T any] Generic[T]

// RetrieveDestroyView shows and deletes one object: GET, HEAD, DELETE.
type RetrieveDestroyView[T any] Generic[T]

// RetrieveUpdateDestroyView shows, changes and deletes one object: GET,
// HEAD, PUT, PATCH, DELETE.
type RetrieveUpdateDestroyView[T any] Generic[T]

// serve is the request flow every generic view shares, in the order of
// DRF's APIView.dispatch: the authentication outcome, request-level
// permissions, throttles, then the handler of the method (405 when the
// view has none). Every response carries the Allow header, as DRF's do.
func (g *Generic[T]) serve(w http.ResponseWriter, r *http.Request, c caps) {
	p := g.setup(c)
	method := r.Method
	if method == http.MethodHead {
		// HEAD answers like GET, without the body (Django's View does the same).
		w = headWriter{w}
		if c&(capList|capRetrieve) != 0 {
			method = http.MethodGet
		}
	}
	w.Header()["Allow"] = p.allow
	if err := initial(r, g.Permissions, g.Throttles); err != nil {
		WriteError(w, r, err)
		return
	}
	a := actionNone
	switch method {
	case http.MethodGet:
		if c&capList != 0 {
			a = actionList
		} else if c&capRetrieve != 0 {
			a = actionRetrieve
		}
	case http.MethodPost:
		if c&capCreate != 0 {
			a = actionCreate
		}
	case http.MethodPut:
		if c&capUpdate != 0 {
			a = actionPut
		}
	case http.MethodPatch:
		if c&capUpdate != 0 {
			a = actionPatch
		}
	case http.MethodDelete:
		if c&capDestroy != 0 {
			a = actionDestroy
		}
	case http.MethodOptions:
		if err := g.options(w, r, p, c); err != nil {
			WriteError(w, r, err)
		}
		return
	}
	if a == actionNone {
		WriteError(w, r, &methodNotAllowedError{method: r.Method})
		return
	}
	if err := g.run(w, r, p, a); err != nil {
		WriteError(w, r, err)
	}
}

// action is what a request asks a generic view to do.
type action uint8

const (
	actionNone action = iota
	actionList
	actionRetrieve
	actionCreate
	actionPut
	actionPatch
	actionDestroy
)

// run performs a with r's context bounded by the view's Timeout. When the
// context already ends sooner (a server-wide request timeout), it is used
// as it is, saving a timer and a request copy.
func (g *Generic[T]) run(w http.ResponseWriter, r *http.Request, p *plan[T], a action) error {
	if d, ok := r.Context().Deadline(); !ok || time.Until(d) > p.timeout {
		ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	switch a {
	case actionList:
		return g.list(w, r, p)
	case actionRetrieve:
		return g.retrieve(w, r, p)
	case actionCreate:
		return g.create(w, r, p)
	case actionPut:
		return g.update(w, r, p, serializers.Update)
	case actionPatch:
		return g.update(w, r, p, serializers.Partial)
	case actionDestroy:
		return g.destroy(w, r, p)
	}
	return nil
}

// initial runs the checks of DRF's APIView.initial: content negotiation
// (404 for an unknown format, 406 for an Accept JSON cannot satisfy), the
// authentication outcome (a rejected or uncheckable credential is
// answered before the permissions), then request-level permissions, then
// throttles.
func initial(r *http.Request, perms []permissions.Permission, throttles []throttling.Throttle) error {
	if err := negotiate(r); err != nil {
		return err
	}
	if err := authentication.ErrorFrom(r.Context()); err != nil {
		return err
	}
	if err := permissions.Check(r, perms); err != nil {
		return err
	}
	return checkThrottles(r, throttles)
}

// checkThrottles consults every throttle, as DRF 3.14 does, and refuses the
// request with the longest wait when any refuses it. A throttle whose
// store fails refuses the request with 503.
func checkThrottles(r *http.Request, throttles []throttling.Throttle) error {
	var wait time.Duration
	refused := false
	for _, t := range throttles {
		d, err := t.Allow(r)
		if err != nil {
			return unavailable(err)
		}
		if d > 0 {
			refused = true
			wait = max(wait, d)
		}
	}
	if refused {
		return &throttling.ThrottledError{Wait: wait}
	}
	return nil
}

// headWriter answers HEAD: the headers (with Content-Length) of the GET
// response, no body.
type headWriter struct{ http.ResponseWriter }

func (h headWriter) Write(b []byte) (int, error) { return len(b), nil }
