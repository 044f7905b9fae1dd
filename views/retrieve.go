package views

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/jsonbody"
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
	obj, err := g.load(r, p)
	if err != nil {
		return err
	}
	out := jsonbody.GetBuffer()
	*out = p.ser.AppendJSONContext(r.Context(), *out, obj)
	p.writeGet(w, r, *out)
	jsonbody.PutBuffer(out)
	return nil
}

// load finds the object named by the URL (DRF's get_object) and checks
// its object permissions: the lookup value is parsed by the lookup
// field's type (a value that does not parse is a 404, like a missing
// row) and the query is scoped by Queryset.
func (g *Generic[T]) load(r *http.Request, p *plan[T]) (*T, error) {
	v, ok := p.parseLookup(chi.URLParam(r, p.urlParam))
	if !ok {
		return nil, models.ErrNotFound
	}
	ctx := r.Context()
	obj, ok, err := p.run.lookup(ctx, v)
	if !ok {
		obj = new(T)
		err = p.run.object(ctx, p.withRelations(g.lookupQuery(r, p, obj, v)), obj)
	}
	if err != nil {
		return nil, err
	}
	if err := permissions.CheckObject(r, g.Permissions, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// lookupQuery is the query of the object whose lookup value is v, read
// into obj: scoped by Queryset, then narrowed to the lookup value.
func (g *Generic[T]) lookupQuery(r *http.Request, p *plan[T], obj *T, v any) *bun.SelectQuery {
	q := p.newSelect(g.DB, obj)
	if g.Queryset != nil {
		q = g.Queryset(r, q)
	}
	return q.Where(p.lookupWhere, v).Limit(1)
}

// lock begins a write's transaction with the object named by the URL read
// and locked in it (on PostgreSQL, FOR UPDATE until the transaction
// ends), then checks its object permissions. direct says the write that
// follows can run on pgx (no Perform hook, which needs a bun.Tx). With
// opt, the object is read with its row version and nothing is locked
// when the runner can (runner.readVersion): an update then writes only
// an unchanged row. On error nothing is left open.
func (g *Generic[T]) lock(r *http.Request, p *plan[T], direct, opt bool) (*T, *tx, error) {
	ctx := r.Context()
	v, ok := p.parseLookup(chi.URLParam(r, p.urlParam))
	if !ok {
		return nil, nil, models.ErrNotFound
	}
	obj := new(T)
	var (
		t   *tx
		err error
	)
	ok = false
	if opt && direct {
		t, ok, err = p.run.readVersion(ctx, obj, v)
	}
	if !ok {
		t, ok, err = p.run.lockKey(ctx, obj, v, direct)
	}
	if !ok {
		// With the relations the representation shows, as the prepared
		// reads have them: an If-Match compares the representation, and
		// OnCommit sees a deleted object as a read shows it.
		t, err = p.run.lock(ctx, p.withRelations(g.lookupQuery(r, p, obj, v)), obj, p.forUpdate, direct)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := permissions.CheckObject(r, g.Permissions, obj); err != nil {
		t.close(ctx)
		return nil, nil, err
	}
	return obj, t, nil
}
