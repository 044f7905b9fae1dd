package views

import (
	"net/http"
)

// ServeHTTP serves DELETE, and OPTIONS.
func (v *DestroyView[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*Generic[T])(v).serve(w, r, capDestroy)
}

// Describe describes the view for schema generation. It sets the view up,
// so a misconfigured view panics here.
func (v *DestroyView[T]) Describe() Info { return (*Generic[T])(v).setup(capDestroy).info }

// destroy answers DELETE: in one transaction it loads the object (locked
// on PostgreSQL), checks object permissions and runs PerformDestroy or a
// DELETE by primary key, then commits (without PerformDestroy on
// PostgreSQL, two round trips: BEGIN with the locked read, then the
// DELETE with the COMMIT); then 204 with no body (and, as in DRF, no
// Content-Type). Without PerformDestroy and Queryset on PostgreSQL, the
// object is read with its row version and no transaction, and the
// DELETE, auto-committed, removes it only if the row is still that
// version; when it changed in between nothing was deleted and the destroy
// runs again, locked, as an update does. Before all that, a destroy whose
// permissions the database can check is tried in place (inplace.go).
func (g *Generic[T]) destroy(w http.ResponseWriter, r *http.Request, p *plan[T]) error {
	if p.destroyInPlace {
		if done, err := g.destroyInPlace(w, r, p); done {
			return err
		}
	}
	direct := g.PerformDestroy == nil && p.run.delete
	if direct {
		if err := g.destroyOnce(w, r, p, direct, true); err != errStale {
			return err
		}
	}
	return g.destroyOnce(w, r, p, direct, false)
}

// destroyOnce is destroy, without a lock when opt (errStale when the row
// changed: nothing was deleted).
func (g *Generic[T]) destroyOnce(w http.ResponseWriter, r *http.Request, p *plan[T], direct, opt bool) error {
	obj, t, err := g.lock(r, p, direct, opt)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// Rolls back on every path that does not commit, a panicking hook
	// included; after a commit it only gives the connection back.
	defer t.close(ctx)
	if err := g.checkPreconditions(r, p, obj); err != nil {
		return err
	}
	if g.PerformDestroy != nil {
		if err = g.PerformDestroy(r, t.Tx(), obj); err == nil {
			err = t.commit(ctx)
		}
	} else {
		err = t.delete(ctx, p.table, g.DB.NewDelete().Model(obj).WherePK(), obj)
	}
	if err != nil {
		return err
	}
	g.committed(r, Deleted, obj)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
