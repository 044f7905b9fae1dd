package views

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/internal/pgread"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
)

// ServeHTTP serves PUT and PATCH, and OPTIONS.
func (v *UpdateView[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*Generic[T])(v).serve(w, r, capUpdate)
}

// Describe describes the view for schema generation. It sets the view up,
// so a misconfigured view panics here.
func (v *UpdateView[T]) Describe() Info { return (*Generic[T])(v).setup(capUpdate).info }

// update answers PUT (mode Update: every required field) and PATCH (mode
// Partial). In one transaction it loads the object (locked on
// PostgreSQL), checks object permissions, decodes the body into it, and
// runs PerformUpdate or an UPDATE of every writable column, so concurrent
// updates of different fields all survive. The body is read before the
// transaction starts, so no lock waits on a slow client, but its errors
// are reported in DRF's order: after a 404 or 403 on the object.
func (g *Generic[T]) update(w http.ResponseWriter, r *http.Request, p *plan[T], mode serializers.Mode) error {
	in := jsonbody.GetBuffer()
	defer jsonbody.PutBuffer(in)
	body, bodyErr := readBody(r, p.maxBody, in)
	if g.PerformUpdate == nil && p.writable {
		if handled, err := g.updateOnPgx(w, r, p, mode, body, bodyErr); handled {
			return err
		}
	}
	ctx := r.Context()
	tx, err := g.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// Rolls back on every path that does not commit, a panicking hook
	// included; after a commit it is a no-op.
	defer tx.Rollback()
	obj, err := g.load(r, p, &tx)
	if err == nil {
		err = bodyErr
	}
	if err == nil {
		err = p.ser.Decode(ctx, body, obj, mode)
	}
	if err == nil {
		if g.PerformUpdate != nil {
			err = g.PerformUpdate(r, tx, obj)
		} else if len(p.updateCols) > 0 {
			_, err = tx.NewUpdate().Model(obj).Column(p.updateCols...).WherePK().Returning("*").Exec(ctx)
		}
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return p.ser.ConstraintError(err, obj)
	}
	out := jsonbody.GetBuffer()
	*out = p.ser.AppendJSON(*out, obj)
	jsonbody.Write(w, http.StatusOK, *out)
	jsonbody.PutBuffer(out)
	return nil
}

// updateOnPgx is update without a PerformUpdate on PostgreSQL, in two
// round trips on one pgx connection: BEGIN with the locked load, then the
// UPDATE ... RETURNING with the COMMIT (internal/pgread). The steps and
// their order are update's. handled is false when pgread leaves the
// transaction to bun; nothing ran then.
func (g *Generic[T]) updateOnPgx(w http.ResponseWriter, r *http.Request, p *plan[T], mode serializers.Mode, body []byte, bodyErr error) (handled bool, err error) {
	ctx := r.Context()
	obj, tx, handled, err := g.loadOnPgx(r, p)
	if !handled {
		return false, nil
	}
	defer tx.Close(ctx)
	if err == nil {
		err = bodyErr
	}
	if err == nil {
		err = p.ser.Decode(ctx, body, obj, mode)
	}
	if err == nil {
		if len(p.updateCols) > 0 {
			// RETURNING names the model's columns (not *), so a column the
			// table has and the model lacks cannot fail the scan after the
			// pipelined COMMIT.
			err = tx.UpdateCommit(ctx, g.DB.NewUpdate().Model(obj).Column(p.updateCols...).WherePK().Returning("?", bun.Safe(p.returning)), obj)
		} else {
			err = tx.Commit(ctx)
		}
	}
	if err != nil {
		return true, p.ser.ConstraintError(err, obj)
	}
	out := jsonbody.GetBuffer()
	*out = p.ser.AppendJSON(*out, obj)
	jsonbody.Write(w, http.StatusOK, *out)
	jsonbody.PutBuffer(out)
	return true, nil
}

// loadOnPgx is load in a transaction begun on pgx in the same round trip
// (pgread.Load): the object locked, then its object permissions checked.
// handled is false when bun must run the transaction (a lookup value that
// does not parse, which the bun path answers after BEGIN as always, or a
// query pgread leaves to bun); nothing ran then. With handled, the caller
// closes tx (nil-safe).
func (g *Generic[T]) loadOnPgx(r *http.Request, p *plan[T]) (obj *T, tx *pgread.Tx, handled bool, err error) {
	v, ok := p.parseLookup(chi.URLParam(r, p.urlParam))
	if !ok {
		return nil, nil, false, nil
	}
	obj = new(T)
	q := g.DB.NewSelect().Model(obj)
	if g.Queryset != nil {
		q = g.Queryset(r, q)
	}
	q = q.Where(p.lookupWhere, v).Limit(1).For(p.forUpdate)
	tx, handled, err = pgread.Load(r.Context(), q, obj)
	if !handled || err != nil {
		return obj, tx, handled, err
	}
	return obj, tx, true, permissions.CheckObject(r, g.Permissions, obj)
}
