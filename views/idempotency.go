package views

import (
	"context"
	"net/http"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/respond"
)

// TxRecorder is implemented by a ResponseWriter that keeps the answer of a
// write, such as the one idempotency.Middleware hands to the view: a
// generic create calls RecordTx inside its transaction, just before
// COMMIT, with the answer it sends once committed, so that what RecordTx
// writes through tx commits with the created row or not at all. An error
// rolls the create back and is answered instead.
type TxRecorder interface {
	RecordTx(ctx context.Context, tx bun.IDB, status int, contentType string, body []byte) error
}

// txRecorder returns the TxRecorder w is or wraps (through Unwrap, the
// http.ResponseController convention), or nil.
func txRecorder(w http.ResponseWriter) TxRecorder {
	for {
		switch x := w.(type) {
		case TxRecorder:
			return x
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return nil
		}
	}
}

// createRecorded is create's save and answer when w keeps answers: in one
// transaction PerformCreate (or the INSERT), the representation, RecordTx
// and COMMIT; the answer goes out only after the commit.
func (g *Generic[T]) createRecorded(w http.ResponseWriter, r *http.Request, p *plan[T], obj *T, rec TxRecorder) error {
	ctx := r.Context()
	tx, err := g.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// Rolls back on every path that does not commit; after a commit it is
	// a no-op.
	defer tx.Rollback()
	if g.PerformCreate != nil {
		err = g.PerformCreate(r, tx, obj)
	} else {
		_, err = tx.NewInsert().Model(obj).Returning("*").Exec(ctx)
	}
	if err != nil {
		return p.ser.ConstraintError(err, obj)
	}
	out := respond.GetBuffer()
	defer respond.PutBuffer(out)
	*out = p.ser.AppendJSON(*out, obj)
	if err := rec.RecordTx(ctx, tx, http.StatusCreated, "application/json", *out); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return p.ser.ConstraintError(err, obj)
	}
	respond.JSON(w, http.StatusCreated, *out)
	return nil
}
