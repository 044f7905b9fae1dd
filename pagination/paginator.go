// Package pagination splits list results into pages with DRF's envelopes:
// PageNumber ({"count","next","previous","results"} with ?page=&page_size=),
// LimitOffset (the same envelope with ?limit=&offset=) and Cursor
// ({"next","previous","results"}, opaque tamper-proof cursors over a unique
// ordering, stable while rows are inserted).
package pagination

import (
	"net/http"

	"github.com/uptrace/bun"
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

// Page describes one page of results; the view writes the envelope with
// AppendOpen, the results, and AppendClose.
type Page struct {
	// Count is the total number of rows; meaningful when HasCount.
	Count    int64
	HasCount bool
	// Next and Previous are absolute URLs, "" when there is none (null).
	Next, Previous string
}

// AppendOpen appends the envelope up to and including `"results":` to dst.
func (p *Page) AppendOpen(dst []byte) []byte {
	panic("TODO")
}

// AppendClose appends the envelope's closing brace.
func (p *Page) AppendClose(dst []byte) []byte { return append(dst, '}') }
