// Package pagination splits list results into pages with DRF's envelopes:
// PageNumber ({"count","next","previous","results"} with ?page=&page_size=),
// LimitOffset (the same envelope with ?limit=&offset=) and Cursor
// ({"next","previous","results"}, opaque tamper-proof cursors over a unique
// ordering, stable while rows are inserted).
//
// Every paginator is a plain struct whose zero value means DRF's defaults
// with a bound: a zero page size is 10 and a zero maximum is 100, never
// unbounded. Queries run with the request's context.
package pagination

import (
	"errors"
	"net/http"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
)

// Paginator runs a list query one page at a time.
type Paginator interface {
	// Paginate applies the page taken from r's query string to q, runs it,
	// scanning into rows (a pointer to a slice, already set as q's model),
	// and describes the page. It returns ErrInvalidPage (wrapped in an error
	// that answers 404 {"detail": "Invalid page."}) for a page that does
	// not exist or a cursor that does not verify.
	Paginate(r *http.Request, q *bun.SelectQuery, rows any) (*Page, error)
}

// SelfOrdering is implemented by a Paginator that orders the query itself
// (Cursor: its keyset needs its own ORDER BY to come first). A view asks
// OrdersQuery before paginating: when it reports true the view must not
// apply ordering (an Ordering filter or a default ordering) to the query;
// otherwise (PageNumber, LimitOffset) the view orders the query, ending with
// the primary key so pages are stable.
type SelfOrdering interface {
	OrdersQuery() bool
}

// Validator is implemented by a Paginator whose configuration can be
// checked before the first request: all three paginators (their sizes and
// BaseURL) and Cursor's ordering field, which depends on the model. A view
// calls Validate once, on first use, with the model's bun table, and panics
// with the error's text when it fails; the text says what is wrong and how
// to fix it.
type Validator interface {
	Validate(table *schema.Table) error
}

// ErrInvalidPage is wrapped by the errors Paginate returns for a page that
// does not exist (page 0, negative, not a number, past the end) and for a
// cursor that does not decode or verify. Test for it with errors.Is.
var ErrInvalidPage = errors.New("cosworth/pagination: invalid page")

// InvalidPageError answers a request for a page that does not exist with
// 404 {"detail": Detail}, implementing views.Error and views.ErrorBody.
// Detail is DRF's "Invalid page." for page numbers and "Invalid cursor"
// for cursors. It wraps ErrInvalidPage.
type InvalidPageError struct {
	Detail string
}

// invalidPage and invalidCursor return the paginators' errors, fresh each
// time (a caller may change what it receives); they carry no request data.
func invalidPage() error   { return &InvalidPageError{Detail: drfmsg.InvalidPage} }
func invalidCursor() error { return &InvalidPageError{Detail: drfmsg.InvalidCursor} }

// Error returns the detail, prefixed with the package name.
func (e *InvalidPageError) Error() string { return "cosworth/pagination: " + e.Detail }

// Unwrap returns ErrInvalidPage.
func (e *InvalidPageError) Unwrap() error { return ErrInvalidPage }

// StatusCode is 404, as DRF's NotFound.
func (e *InvalidPageError) StatusCode() int { return http.StatusNotFound }

// AppendJSON appends {"detail": Detail} to dst.
func (e *InvalidPageError) AppendJSON(dst []byte) []byte {
	return jsonbody.AppendDetail(dst, e.Detail)
}

// Compile-time checks of the contracts.
var (
	_ Paginator    = PageNumber{}
	_ Paginator    = LimitOffset{}
	_ Paginator    = Cursor{}
	_ SelfOrdering = Cursor{}
	_ Validator    = Cursor{}
)
