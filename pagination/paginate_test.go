package pagination_test

import (
	"net/http"
	"reflect"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/pagination"
)

// paginate runs the steps a view runs for a Paginator, with bun: Apply,
// the count when the window asks for it, the window's rows unless the
// count shows they are past the end, then Page.
func paginate(p pagination.Paginator, r *http.Request, q *bun.SelectQuery, rows any) (*pagination.Page, error) {
	q, w, err := p.Apply(r, q)
	if err != nil {
		return nil, err
	}
	var count int64
	if w.Count {
		n, err := q.Count(r.Context())
		if err != nil {
			return nil, err
		}
		count = int64(n)
		w = w.Counted(count)
	}
	s := reflect.ValueOf(rows).Elem()
	if w.Reads(count) {
		if err := q.Limit(w.Limit).Offset(w.Offset).Scan(r.Context()); err != nil {
			return nil, err
		}
	} else if !s.IsNil() {
		s.SetLen(0)
	}
	if s.IsNil() {
		s.Set(reflect.MakeSlice(s.Type(), 0, 0)) // [] rather than null
	}
	return p.Page(r, w, count, rows)
}
