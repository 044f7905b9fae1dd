package views

import (
	"net/http"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/serializers"
)

// ServeHTTP serves POST, and OPTIONS.
func (v *CreateView[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*Generic[T])(v).serve(w, r, capCreate)
}

// Describe describes the view for schema generation. It sets the view up,
// so a misconfigured view panics here.
func (v *CreateView[T]) Describe() Info { return (*Generic[T])(v).setup(capCreate).info }

// create answers POST: decode and validate the body into a new T, then in
// one transaction PerformCreate, or (without a hook) a single INSERT ...
// RETURNING * (so database defaults, ids and timestamps come back), then 201 with the
// representation. A unique or foreign-key violation is a 400 on the field
// (Serializer.ConstraintError), never a 500.
func (g *Generic[T]) create(w http.ResponseWriter, r *http.Request, p *plan[T]) error {
	in := jsonbody.GetBuffer()
	defer jsonbody.PutBuffer(in)
	body, err := readBody(r, p.maxBody, in)
	if err != nil {
		return err
	}
	obj := new(T)
	ctx := r.Context()
	if err := p.ser.Decode(ctx, body, obj, serializers.Create); err != nil {
		return err
	}
	if g.PerformCreate == nil {
		// A single INSERT is atomic on its own: no transaction, two round
		// trips fewer.
		_, err = g.DB.NewInsert().Model(obj).Returning("*").Exec(ctx)
	} else {
		err = g.performCreate(r, obj)
	}
	if err != nil {
		return p.ser.ConstraintError(err, obj)
	}
	out := jsonbody.GetBuffer()
	*out = p.ser.AppendJSON(*out, obj)
	jsonbody.Write(w, http.StatusCreated, *out)
	jsonbody.PutBuffer(out)
	return nil
}

// performCreate runs PerformCreate inside a transaction it commits.
func (g *Generic[T]) performCreate(r *http.Request, obj *T) error {
	tx, err := g.DB.BeginTx(r.Context(), nil)
	if err != nil {
		return err
	}
	// Rolls back on every path that does not commit, a panicking hook
	// included; after a commit it is a no-op.
	defer tx.Rollback()
	if err := g.PerformCreate(r, tx, obj); err != nil {
		return err
	}
	return tx.Commit()
}
