package views

import (
	"net/http"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/internal/jsonbody"
)

// ServeHTTP serves GET and HEAD (the list), and OPTIONS.
func (v *ListView[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*Generic[T])(v).serve(w, r, capList)
}

// Describe describes the view for schema generation. It sets the view up,
// so a misconfigured view panics here.
func (v *ListView[T]) Describe() Info { return (*Generic[T])(v).setup(capList).info }

// list answers a list request: the Queryset scope, the built-in filters
// (search, field filters, ordering), the extra Filters, then one page from
// the Paginator or, without one, a JSON array of at most MaxResults objects.
func (g *Generic[T]) list(w http.ResponseWriter, r *http.Request, p *plan[T]) error {
	rows := p.getRows()
	defer p.putRows(rows)
	var keys filters.PendingKeys
	q, err := g.listQuery(r, p, rows, &keys)
	if err != nil {
		return err
	}
	out := jsonbody.GetBuffer()
	defer jsonbody.PutBuffer(out)
	if g.Paginator == nil {
		if err := p.run.rows(r.Context(), q.Limit(int64(p.maxResults)), rows); err != nil {
			return err
		}
		if err := checkKeys(r, &keys, *rows, nil); err != nil {
			return err
		}
		*out = p.ser.AppendListContext(r.Context(), *out, *rows)
	} else {
		page, err := paginate(r, &p.run, q, g.Paginator, rows)
		if err := checkKeys(r, &keys, *rows, err); err != nil {
			return err
		}
		*out = page.AppendOpen(*out)
		*out = p.ser.AppendListContext(r.Context(), *out, *rows)
		*out = page.AppendClose(*out)
	}
	p.writeGet(w, r, *out)
	return nil
}

// checkKeys runs the foreign-key checks the field filters left pending
// (filters.Fields.ApplyDeferred) when the list read rows none of (an
// empty page says nothing of the key) or failed (a 400 on the filter
// comes before the paginator's 404, as in DRF): their error, else err.
func checkKeys[T any](r *http.Request, keys *filters.PendingKeys, rows []T, err error) error {
	if keys.Len() > 0 && (len(rows) == 0 || err != nil) {
		if kerr := keys.Check(r); kerr != nil {
			return kerr
		}
	}
	return err
}

// listQuery is the list's query, read into rows: the Queryset scope, then
// the built-in filters, then the extra Filters. The foreign-key checks
// of the field filters are left in keys (see checkKeys).
func (g *Generic[T]) listQuery(r *http.Request, p *plan[T], rows *[]T, keys *filters.PendingKeys) (*bun.SelectQuery, error) {
	q := p.withRelations(p.newSelect(g.DB, rows))
	if g.Queryset != nil {
		q = g.Queryset(r, q)
	}
	var err error
	for _, f := range p.filters {
		if fs, ok := f.(*filters.Fields); ok {
			q, err = fs.ApplyDeferred(r, q, keys)
		} else {
			q, err = f.Apply(r, q)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, f := range g.Filters {
		if q, err = f.Apply(r, q); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// Bounds of the pooled row slices of list views.
const (
	rowsInitialCap = 16  // DRF's usual page sizes fit without growing
	rowsMaxPooled  = 256 // larger slices (big unpaginated lists) are not kept
)

// getRows returns an empty slice for a list's rows, reusing the capacity
// of an earlier request's.
func (p *plan[T]) getRows() *[]T {
	if v := p.rows.Get(); v != nil {
		return v.(*[]T)
	}
	s := make([]T, 0, rowsInitialCap)
	return &s
}

// putRows zeroes rows (bun reuses capacity without zeroing, so a column a
// Queryset leaves out must not keep another request's value) and pools it.
func (p *plan[T]) putRows(rows *[]T) {
	s := (*rows)[:cap(*rows)]
	if cap(s) > rowsMaxPooled {
		return
	}
	clear(s)
	*rows = s[:0]
	p.rows.Put(rows)
}
