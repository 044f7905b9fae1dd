// Package views provides DRF's generic views as generic Go types over bun
// models: ListView, CreateView, RetrieveView, UpdateView, DestroyView,
// ListCreateView, RetrieveUpdateView, RetrieveDestroyView and
// RetrieveUpdateDestroyView. Each is an http.Handler configured by exported
// fields whose zero values mean DRF's defaults (or, where DRF has no bound, a
// documented safe one).
package views

import (
	"net/http"
	"time"

	"github.com/uptrace/bun"

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
	// Throttles are checked in order before permissions.
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
	// Filter lists JSON field names usable as exact filters (?author=3).
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
	Queryset func(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery
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
	// Timeout bounds the database work of one request; 0 means 10s.
	Timeout time.Duration
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
