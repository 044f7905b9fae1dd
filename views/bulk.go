package views

import (
	"net/http"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/jsonbody"
)

// createMany answers a POST whose body is a JSON array on a view with
// AllowBulk, as DRF's CreateModelMixin with a many=True serializer: every
// item decoded and validated (400 with one error object per item when
// any is invalid, nothing saved), BeforeCreate for each, then in one
// transaction PerformCreate for each or, without it, one multi-row
// INSERT ... RETURNING, and the relations the representation shows read
// back (one query, plus one per to-many relation); then OnCommit for each
// object and 201 with the array of representations. [] creates nothing and answers [] (DRF's
// allow_empty).
func (g *Generic[T]) createMany(w http.ResponseWriter, r *http.Request, p *plan[T], body []byte) error {
	ctx := r.Context()
	objs, err := p.ser.DecodeList(ctx, body, p.maxBulk)
	if err != nil {
		return err
	}
	if g.BeforeCreate != nil {
		for i := range objs {
			if err := g.BeforeCreate(r, &objs[i]); err != nil {
				return err
			}
		}
	}
	if len(objs) > 0 {
		if err := g.insertMany(r, p, objs, txRecorder(w)); err != nil {
			// The database names the column, not the item: the error is
			// reported on the field, as for one object.
			return p.ser.ConstraintError(err, &objs[0])
		}
		for i := range objs {
			g.committed(r, Created, &objs[i])
		}
	}
	out := jsonbody.GetBuffer()
	*out = p.ser.AppendListContext(ctx, *out, objs)
	jsonbody.Write(w, http.StatusCreated, *out)
	jsonbody.PutBuffer(out)
	return nil
}

// insertMany saves objs in one transaction it commits: PerformCreate for
// each, or one INSERT of every row RETURNING the model's columns; with a
// TxRecorder (an Idempotency-Key store), the answer is kept in the same
// transaction.
func (g *Generic[T]) insertMany(r *http.Request, p *plan[T], objs []T, rec TxRecorder) error {
	ctx := r.Context()
	t, err := p.run.begin(ctx)
	if err != nil {
		return err
	}
	defer t.close(ctx)
	if g.PerformCreate != nil {
		for i := range objs {
			if err := g.PerformCreate(r, t.Tx(), &objs[i]); err != nil {
				return err
			}
		}
	} else if _, err := t.Tx().NewInsert().Model(&objs).Returning("?", bun.Safe(p.returning)).Exec(ctx); err != nil {
		return err
	}
	if err := p.reloadTx(ctx, t.Tx(), &objs); err != nil {
		return err
	}
	if rec != nil {
		out := jsonbody.GetBuffer()
		defer jsonbody.PutBuffer(out)
		*out = p.ser.AppendListContext(ctx, *out, objs)
		if err := rec.RecordTx(ctx, t.Tx(), http.StatusCreated, "application/json", *out); err != nil {
			return err
		}
	}
	return t.commit(ctx)
}
