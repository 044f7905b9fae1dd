package views

import (
	"net/http"

	"github.com/cosworth/cosworth/internal/respond"
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
	in := respond.GetBuffer()
	defer respond.PutBuffer(in)
	body, bodyErr := readBody(r, p.maxBody, in)
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
	out := respond.GetBuffer()
	*out = p.ser.AppendJSON(*out, obj)
	respond.JSON(w, http.StatusOK, *out)
	respond.PutBuffer(out)
	return nil
}
