package pagination

import (
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/querystring"
)

// Defaults of PageNumber and LimitOffset.
const (
	// DefaultPageSize is the page size (and limit) a zero PageSize (or
	// DefaultLimit) means, and Cursor's.
	DefaultPageSize = 10
	// DefaultMaxPageSize is the bound a zero MaxPageSize (or MaxLimit)
	// means.
	DefaultMaxPageSize = 100
)

// PageNumber pages results by number, as DRF's PageNumberPagination:
// ?page=N (1-based, or "last") and ?page_size=N, answering
// {"count","next","previous","results"}.
//
// A page that does not exist (0, negative, not an integer, past the last
// page) is a 404 {"detail": "Invalid page."}; page 1 of an empty result is
// a valid empty page. An invalid page_size falls back to PageSize and one
// above MaxPageSize is lowered to it, as DRF does.
//
// The view counts the rows (a separate SELECT count(*)) before it reads
// the page: the page number is checked against the count and "last"
// resolved; when the page would be empty the page query is skipped.
type PageNumber struct {
	// PageSize is the number of results per page; 0 means 10. A PageSize
	// above the maximum is lowered to it.
	PageSize int
	// MaxPageSize bounds ?page_size=; 0 means 100 (never unbounded).
	MaxPageSize int
	// PageQueryParam names the page parameter; "" means "page".
	PageQueryParam string
	// PageSizeQueryParam names the page size parameter; "" means
	// "page_size" and "-" disables it (DRF leaves it off by default;
	// Cosworth enables it, bounded by MaxPageSize).
	PageSizeQueryParam string
	// BaseURL, when set, replaces the request's scheme and host in next and
	// previous links, for services behind a proxy: "https://api.example.com"
	// or "https://example.com/prefix". By default links use http (https
	// when the request came over TLS) and the request's Host.
	BaseURL string
}

func (p PageNumber) limits() (size, maxSize int) {
	maxSize = p.MaxPageSize
	if maxSize <= 0 {
		maxSize = DefaultMaxPageSize
	}
	size = p.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	return min(size, maxSize), maxSize
}

func (p PageNumber) pageParam() string {
	if p.PageQueryParam == "" {
		return "page"
	}
	return p.PageQueryParam
}

// pageSize returns the page size r asks for, as DRF's get_page_size.
func (p PageNumber) pageSize(r *http.Request) int {
	size, maxSize := p.limits()
	param := p.PageSizeQueryParam
	switch param {
	case "-":
		return size
	case "":
		param = "page_size"
	}
	if v, ok := querystring.Get(r.URL.RawQuery, param); ok {
		if n, ok := positiveInt(v, true, maxSize); ok {
			return n
		}
	}
	return size
}

// Validate checks the configuration: sizes must not be negative and
// BaseURL, when set, must be an absolute http(s) URL without a query. Views
// call it once, on first use, and panic with its error.
func (p PageNumber) Validate(*schema.Table) error {
	if p.PageSize < 0 || p.MaxPageSize < 0 {
		return fmt.Errorf("cosworth/pagination: PageNumber{PageSize: %d, MaxPageSize: %d}: sizes must not be negative (0 means the default, 10 and 100)", p.PageSize, p.MaxPageSize)
	}
	return checkBaseURL("PageNumber", p.BaseURL)
}

// Apply returns q and the window of the page r asks for, counted. It
// returns an *InvalidPageError (wrapping ErrInvalidPage) for a page number
// that is not a positive integer (nor "last"), before anything is read.
func (p PageNumber) Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, Window, error) {
	size := int64(p.pageSize(r))
	w := Window{Count: true, Limit: size}
	raw, ok := querystring.Get(r.URL.RawQuery, p.pageParam())
	if !ok {
		return q, w, nil
	}
	if raw == "last" {
		w.Last = true
		return q, w, nil
	}
	n, ok := parseInt(raw)
	if !ok || n < 1 {
		return q, w, invalidPage()
	}
	if n-1 > math.MaxInt64/size {
		w.Offset = math.MaxInt64 // past any end: not read, and Page answers 404
	} else {
		w.Offset = (n - 1) * size
	}
	return q, w, nil
}

// Page describes the page of window w out of count rows. It returns an
// *InvalidPageError for a page past the last (page 1 of no rows exists).
func (p PageNumber) Page(r *http.Request, w Window, count int64, _ any) (*Page, error) {
	numPages := int64(1)
	if count > 0 {
		numPages = (count + w.Limit - 1) / w.Limit
	}
	if w.Offset > 0 && w.Offset >= count {
		return nil, invalidPage() // past the last page (page 1 of no rows exists)
	}
	number := w.Offset/w.Limit + 1
	page := &Page{Count: count, HasCount: true}
	hasNext, hasPrev := number < numPages, number > 1
	if hasNext || hasPrev {
		pageParam := p.pageParam()
		l := newLinks(r, p.BaseURL)
		if hasNext {
			page.Next = l.with(pageParam, strconv.FormatInt(number+1, 10))
		}
		if hasPrev {
			if number-1 == 1 {
				page.Previous = l.with(pageParam, "")
			} else {
				page.Previous = l.with(pageParam, strconv.FormatInt(number-1, 10))
			}
		}
	}
	return page, nil
}
