package views

import (
	"net/http"

	"github.com/cosworth/cosworth/models"
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
// DELETE by primary key; then 204 with no body (and, as in DRF, no
// Content-Type).
func (g *Generic[T]) destroy(w http.ResponseWriter, r *http.Request, p *plan[T]) error {
	if g.PerformDestroy == nil && p.deletable {
		if handled, err := g.destroyOnPgx(w, r, p); handled {
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
		if g.PerformDestroy != nil {
			err = g.PerformDestroy(r, tx, obj)
		} else {
			_, err = tx.NewDelete().Model(obj).WherePK().Exec(ctx)
		}
	}
	if err == nil {
		err = models.ClassifyCommit(tx.Commit())
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// destroyOnPgx is destroy without a PerformDestroy on PostgreSQL, in two
// round trips on one pgx connection: BEGIN with the locked load, then the
// DELETE with the COMMIT (internal/pgread). The steps and their order are
// destroy's. handled is false when pgread leaves the transaction to bun;
// nothing ran then.
func (g *Generic[T]) destroyOnPgx(w http.ResponseWriter, r *http.Request, p *plan[T]) (handled bool, err error) {
	ctx := r.Context()
	obj, tx, handled, err := g.loadOnPgx(r, p)
	if !handled {
		return false, nil
	}
	defer tx.Close(ctx)
	if err == nil {
		err = models.ClassifyCommit(tx.DeleteCommit(ctx, g.DB.NewDelete().Model(obj).WherePK(), obj))
	}
	if err != nil {
		return true, err
	}
	w.WriteHeader(http.StatusNoContent)
	return true, nil
}
