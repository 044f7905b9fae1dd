package pagination

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/pgread"
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
// The count is a separate SELECT count(*) run before the page query (the
// page number must be checked against it, and "last" resolved), in the
// request's context; when the page would be empty the page query is
// skipped.
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
	if v, ok := queryValue(r.URL.RawQuery, param); ok {
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

// Paginate counts the rows q selects, checks the requested page against
// the count, and scans that page into rows. It returns an
// *InvalidPageError (wrapping ErrInvalidPage) for a page that does not
// exist, and the database's error when a query fails.
func (p PageNumber) Paginate(r *http.Request, q *bun.SelectQuery, rows any) (*Page, error) {
	size := p.pageSize(r)
	pageParam := p.pageParam()
	raw, hasPage := queryValue(r.URL.RawQuery, pageParam)
	if hasPage && raw != "last" {
		// Reject a malformed number before touching the database.
		if n, ok := parseInt(raw); !ok || n < 1 {
			return nil, invalidPage()
		}
	}
	ctx := r.Context()
	// One connection for the count and the page (internal/pgread).
	var s pgread.Session
	defer s.Close()
	count, err := s.Count(ctx, q)
	if err != nil {
		return nil, err
	}
	numPages := int64(1)
	if count > 0 {
		numPages = (count + int64(size) - 1) / int64(size)
	}
	number := int64(1)
	if hasPage {
		if raw == "last" {
			number = numPages
		} else {
			number, _ = parseInt(raw)
			if number > numPages {
				return nil, invalidPage()
			}
		}
	}
	offset := (number - 1) * int64(size)
	if offset < count {
		if err := s.ScanWindow(ctx, q, rows, int64(size), offset); err != nil {
			return nil, err
		}
		emptyRows(rows, false)
	} else {
		emptyRows(rows, true)
	}
	page := &Page{Count: count, HasCount: true}
	hasNext, hasPrev := number < numPages, number > 1
	if hasNext || hasPrev {
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

// emptyRows makes a nil slice that rows points to empty, so that a page
// without results encodes as [] (bun leaves it nil when nothing is
// scanned), and with clear, truncates it (a page the database was not
// asked for).
func emptyRows(rows any, clear bool) {
	v := reflect.ValueOf(rows)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Slice {
		return
	}
	s := v.Elem()
	switch {
	case s.IsNil():
		s.Set(reflect.MakeSlice(s.Type(), 0, 0))
	case clear:
		s.SetLen(0)
	}
}
