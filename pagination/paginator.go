// Package pagination splits list results into pages with DRF's envelopes:
// PageNumber ({"count","next","previous","results"} with ?page=&page_size=),
// LimitOffset (the same envelope with ?limit=&offset=) and Cursor
// ({"next","previous","results"}, opaque tamper-proof cursors over a unique
// ordering, stable while rows are inserted).
//
// Every paginator is a plain struct whose zero value means DRF's defaults
// with a bound: a zero page size is 10 and a zero maximum is 100, never
// unbounded. Paginators only shape queries; the view runs them.
package pagination

import (
	"errors"
	"net/http"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
)

// Paginator splits a list into pages: it shapes the list query for the
// page a request asks for and builds DRF's envelope around the rows the
// view read. It never runs a query. A view calls Apply; counts the rows
// the query selects when the Window asks for it (Window.Count) and settles
// the window with that count (Window.Counted); reads the window's rows
// unless Window.Reads says the count shows it is past the end; then calls
// Page with the count and the rows.
type Paginator interface {
	// Apply reads the page r asks for and returns q shaped for it (Cursor
	// adds its keyset condition and its ORDER BY) with the Window to read.
	// It returns an *InvalidPageError (wrapping ErrInvalidPage) for a page
	// that cannot exist (page 0, not a number) or a cursor that does not
	// verify.
	Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, Window, error)
	// Page describes the page read: w is the window Apply returned, settled
	// by the count (Window.Counted); count is the number of rows the query
	// selects when w.Count, 0 otherwise; rows points to the slice read
	// (possibly empty), which Page may shorten or reorder (Cursor reads one
	// row more than it shows, and a previous page backwards). It returns an
	// *InvalidPageError for a page past the end.
	Page(r *http.Request, w Window, count int64, rows any) (*Page, error)
}

// Window is the part of a list a Paginator asks the view to read.
type Window struct {
	// Count asks for the number of rows the query selects (without its
	// ORDER BY, LIMIT and OFFSET), counted before the rows are read.
	Count bool
	// Last asks for the last page of Limit rows: Counted sets Offset.
	Last bool
	// Limit is the most rows to read and Offset the rows to skip first.
	Limit, Offset int64

	// Cursor's decoded position (nil on the first page) and plan, from
	// Apply to Page.
	cursor *position
	plan   *cursorPlan
}

// Counted returns w for a query that selects count rows: a Last window
// starts at the last page (the first page when there are no rows).
func (w Window) Counted(count int64) Window {
	if w.Last && w.Limit > 0 && count > 0 {
		w.Offset = (count - 1) / w.Limit * w.Limit
	}
	return w
}

// Reads reports whether the rows of w must be read: not when w was counted
// and its offset is past the end, so the page is empty without asking the
// database.
func (w Window) Reads(count int64) bool {
	return w.Limit > 0 && (!w.Count || w.Offset < count)
}

// SelfOrdering is implemented by a Paginator that orders the query itself
// (Cursor: its keyset needs its own ORDER BY to come first). A view asks
// OrdersQuery once, when it is set up: when it reports true the view must not
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
