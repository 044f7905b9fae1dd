package views

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/internal/pgread"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
)

// ServeHTTP serves GET and HEAD (the object), and OPTIONS.
func (v *RetrieveView[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*Generic[T])(v).serve(w, r, capRetrieve)
}

// Describe describes the view for schema generation. It sets the view up,
// so a misconfigured view panics here.
func (v *RetrieveView[T]) Describe() Info { return (*Generic[T])(v).setup(capRetrieve).info }

// retrieve answers GET on one object: one query, then object permissions.
func (g *Generic[T]) retrieve(w http.ResponseWriter, r *http.Request, p *plan[T]) error {
	obj, err := g.load(r, p, nil)
	if err != nil {
		return err
	}
	out := jsonbody.GetBuffer()
	*out = p.ser.AppendJSON(*out, obj)
	jsonbody.Write(w, http.StatusOK, *out)
	jsonbody.PutBuffer(out)
	return nil
}

// load finds the object named by the URL (DRF's get_object): the lookup
// value is parsed by the lookup field's type (a value that does not parse
// is a 404, like a missing row), the query is scoped by Queryset, and the
// object permissions are checked. With a transaction it runs in it and, on
// PostgreSQL, locks the row (FOR UPDATE) until the transaction ends;
// SQLite's write transactions are exclusive already.
func (g *Generic[T]) load(r *http.Request, p *plan[T], tx *bun.Tx) (*T, error) {
	v, ok := p.parseLookup(chi.URLParam(r, p.urlParam))
	if !ok {
		return nil, models.ErrNotFound
	}
	obj := new(T)
	if tx == nil && g.Queryset == nil {
		// The same query on every request but for v: formatted once.
		p.getOnce.Do(func() {
			p.get = pgread.Prepare(g.DB.NewSelect().Model(new(T)).Where(p.lookupWhere, v).Limit(1), obj, 1)
		})
		if p.get != nil {
			handled, err := p.get.Scan(r.Context(), g.DB, obj, v)
			if handled {
				if err != nil {
					return nil, err
				}
				if err := permissions.CheckObject(r, g.Permissions, obj); err != nil {
					return nil, err
				}
				return obj, nil
			}
		}
	}
	var (
		q   *bun.SelectQuery
		err error
	)
	if tx != nil {
		q = tx.NewSelect()
	} else {
		q = g.DB.NewSelect()
	}
	q = q.Model(obj)
	if g.Queryset != nil {
		q = g.Queryset(r, q)
	}
	q = q.Where(p.lookupWhere, v).Limit(1)
	if tx != nil {
		if p.forUpdate != "" {
			q = q.For(p.forUpdate)
		}
		err = q.Scan(r.Context())
	} else {
		err = pgread.Scan(r.Context(), q, obj)
	}
	if err != nil {
		return nil, err
	}
	if err := permissions.CheckObject(r, g.Permissions, obj); err != nil {
		return nil, err
	}
	return obj, nil
}
