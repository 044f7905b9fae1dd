package views

import (
	"net/http"

	"github.com/uptrace/bun"

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

// create answers POST: decode and validate the body into a new T, then
// BeforeCreate, then PerformCreate in a transaction, or (without a hook) a single INSERT ...
// RETURNING the model's columns (so database defaults, ids and
// timestamps come back), which is atomic on its own and, on PostgreSQL,
// one round trip; then 201 with the representation. A duplicate unique
// value or a missing foreign key is a 400 on the field, with the other
// fields' errors (Serializer.DecodeRelated, RelatedError; related.go),
// never a 500.
func (g *Generic[T]) create(w http.ResponseWriter, r *http.Request, p *plan[T]) error {
	in := jsonbody.GetBuffer()
	defer jsonbody.PutBuffer(in)
	body, err := readBody(r, p.maxBody, in, p.fields)
	if err != nil {
		return err
	}
	if g.AllowBulk && serializers.IsList(body) {
		return g.createMany(w, r, p, body)
	}
	obj := new(T)
	ctx := r.Context()
	if err := p.ser.DecodeRelated(ctx, body, obj, serializers.Create, p.relatedFor(g.PerformCreate != nil, nil)); err != nil {
		return err
	}
	if g.BeforeCreate != nil {
		if err := g.BeforeCreate(r, obj); err != nil {
			return err
		}
	}
	rec := txRecorder(w)
	if g.PerformCreate == nil && rec == nil {
		err = p.run.insertOne(ctx, p.table, p.returning, obj, func() *bun.InsertQuery {
			return g.DB.NewInsert().Model(obj).Returning("?", bun.Safe(p.returning))
		})
	} else {
		err = g.createInTx(r, p, obj, rec)
	}
	if err != nil {
		return p.ser.RelatedError(ctx, err, obj, serializers.Create, p.relLazy)
	}
	if g.PerformCreate == nil && rec == nil {
		// The relations a nested representation shows (createInTx read
		// them in its transaction).
		err = g.reload(ctx, p, obj)
	}
	g.committed(r, Created, obj)
	if err != nil {
		return err
	}
	out := jsonbody.GetBuffer()
	*out = p.ser.AppendJSONContext(ctx, *out, obj)
	jsonbody.Write(w, http.StatusCreated, *out)
	jsonbody.PutBuffer(out)
	return nil
}

// createInTx runs a create in a transaction it commits: PerformCreate (or,
// without one, the INSERT) and, when the response writer keeps answers
// (rec, an Idempotency-Key store), RecordTx with the answer, so that the
// kept answer commits with the row or not at all.
func (g *Generic[T]) createInTx(r *http.Request, p *plan[T], obj *T, rec TxRecorder) error {
	ctx := r.Context()
	t, err := p.run.begin(ctx)
	if err != nil {
		return err
	}
	// Rolls back on every path that does not commit, a panicking hook
	// included; after a commit it is a no-op.
	defer t.close(ctx)
	if g.PerformCreate != nil {
		err = g.PerformCreate(r, t.Tx(), obj)
	} else {
		_, err = t.Tx().NewInsert().Model(obj).Returning("?", bun.Safe(p.returning)).Exec(ctx)
	}
	if err != nil {
		return err
	}
	if err := p.reloadTx(ctx, t.Tx(), obj); err != nil {
		return err
	}
	if rec != nil {
		out := jsonbody.GetBuffer()
		defer jsonbody.PutBuffer(out)
		*out = p.ser.AppendJSONContext(ctx, *out, obj)
		if err := rec.RecordTx(ctx, t.Tx(), http.StatusCreated, "application/json", *out); err != nil {
			return err
		}
	}
	return t.commit(ctx)
}
