package pagination

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/querystring"
)

// LimitOffset pages results by ?limit=N&offset=M, as DRF's
// LimitOffsetPagination, answering {"count","next","previous","results"}.
//
// A missing or invalid limit (not an integer, zero, negative) is
// DefaultLimit and one above MaxLimit is lowered to it; a missing or invalid
// offset (not an integer, negative) is 0. An offset past the end is an
// empty page with the correct count, never an error. The count is a
// separate SELECT count(*); the page query is skipped when the offset is
// past the end.
type LimitOffset struct {
	// DefaultLimit is the limit when ?limit= is absent or invalid; 0 means
	// 10. A DefaultLimit above the maximum is lowered to it.
	DefaultLimit int
	// MaxLimit bounds ?limit=; 0 means 100 (never unbounded).
	MaxLimit int
	// LimitQueryParam and OffsetQueryParam name the two parameters (DRF's
	// limit_query_param and offset_query_param); "" means "limit" and
	// "offset".
	LimitQueryParam, OffsetQueryParam string
	// BaseURL, when set, replaces the request's scheme and host in next and
	// previous links; see PageNumber.BaseURL.
	BaseURL string
}

// Params returns the names of the limit and offset parameters.
func (p LimitOffset) Params() (limit, offset string) {
	limit, offset = p.LimitQueryParam, p.OffsetQueryParam
	if limit == "" {
		limit = "limit"
	}
	if offset == "" {
		offset = "offset"
	}
	return limit, offset
}

// window returns the limit and offset r asks for, as DRF's get_limit and
// get_offset.
func (p LimitOffset) window(r *http.Request) (limit, offset int) {
	maxLimit := p.MaxLimit
	if maxLimit <= 0 {
		maxLimit = DefaultMaxPageSize
	}
	limit = p.DefaultLimit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, maxLimit)
	limitParam, offsetParam := p.Params()
	if v, ok := querystring.Get(r.URL.RawQuery, limitParam); ok {
		if n, ok := positiveInt(v, true, maxLimit); ok {
			limit = n
		}
	}
	if v, ok := querystring.Get(r.URL.RawQuery, offsetParam); ok {
		if n, ok := positiveInt(v, false, 0); ok {
			offset = n
		}
	}
	return limit, offset
}

// Validate checks the configuration: limits must not be negative, the
// parameter names must be plain (letters, digits, _ . ~ -) and differ, and
// BaseURL, when set, must be an absolute http(s) URL without a query. Views
// call it once, on first use, and panic with its error.
func (p LimitOffset) Validate(*schema.Table) error {
	if p.DefaultLimit < 0 || p.MaxLimit < 0 {
		return fmt.Errorf("cosworth/pagination: LimitOffset{DefaultLimit: %d, MaxLimit: %d}: limits must not be negative (0 means the default, 10 and 100)", p.DefaultLimit, p.MaxLimit)
	}
	limit, offset := p.Params()
	for _, name := range [...]string{limit, offset} {
		if !querystring.PlainName(name) {
			return fmt.Errorf("cosworth/pagination: LimitOffset parameter %q: use letters, digits and _ . ~ - only", name)
		}
	}
	if limit == offset {
		return fmt.Errorf("cosworth/pagination: LimitOffset: LimitQueryParam and OffsetQueryParam are both %q: give them different names", limit)
	}
	return checkBaseURL("LimitOffset", p.BaseURL)
}

// Apply returns q and the window r asks for, counted. It never returns
// an error.
func (p LimitOffset) Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, Window, error) {
	limit, offset := p.window(r)
	return q, Window{Count: true, Limit: int64(limit), Offset: int64(offset)}, nil
}

// Page describes the window w of count rows. It never returns an error.
func (p LimitOffset) Page(r *http.Request, w Window, count int64, _ any) (*Page, error) {
	limit, offset := w.Limit, w.Offset
	page := &Page{Count: count, HasCount: true}
	hasNext := offset < count-limit // offset+limit < count, without overflow
	hasPrev := offset > 0
	if hasNext || hasPrev {
		limitParam, offsetParam := p.Params()
		l := newLinks(r, p.BaseURL)
		ls := strconv.FormatInt(limit, 10)
		if hasNext {
			page.Next = l.with(limitParam, ls, offsetParam, strconv.FormatInt(offset+limit, 10))
		}
		if hasPrev {
			if offset-limit <= 0 {
				page.Previous = l.with(limitParam, ls, offsetParam, "")
			} else {
				page.Previous = l.with(limitParam, ls, offsetParam, strconv.FormatInt(offset-limit, 10))
			}
		}
	}
	return page, nil
}
