package views

import (
	"net/http"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/jsonbody"
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
// runs PerformUpdate or an UPDATE ... RETURNING of every writable column
// (so concurrent updates of different fields all survive), then commits.
// Without PerformUpdate on PostgreSQL that is two round trips: BEGIN with
// the locked read, then the UPDATE with the COMMIT. The body is read
// before the transaction starts, so no lock waits on a slow client, but
// its errors are reported in DRF's order: after a 404 or 403 on the
// object.
//
// Without PerformUpdate on PostgreSQL the object is first read with its
// row version and no transaction, and the UPDATE, auto-committed, writes
// it only if the row is still that version: two single statements. When
// the row changed in between, nothing was written and the update runs
// again as above, locked, from the read on.
func (g *Generic[T]) update(w http.ResponseWriter, r *http.Request, p *plan[T], mode serializers.Mode) error {
	in := jsonbody.GetBuffer()
	defer jsonbody.PutBuffer(in)
	body, err := readBody(r, p.maxBody, in, p.fields)
	if p.inPlace && err == nil {
		if done, uerr := g.updateInPlace(w, r, p, mode, body); done {
			return uerr
		}
	}
	direct := g.PerformUpdate == nil && p.run.write
	if direct && len(p.updateCols) > 0 {
		if uerr := g.updateOnce(w, r, p, mode, body, err, true); uerr != errStale {
			return uerr
		}
	}
	return g.updateOnce(w, r, p, mode, body, err, false)
}

// updateOnce is update with the body read (err is its error), without a
// lock when opt (errStale when the row changed: nothing was written).
func (g *Generic[T]) updateOnce(w http.ResponseWriter, r *http.Request, p *plan[T], mode serializers.Mode, body []byte, err error, opt bool) error {
	obj, t, lerr := g.lock(r, p, g.PerformUpdate == nil && p.run.write, opt)
	if lerr != nil {
		return lerr
	}
	ctx := r.Context()
	// Rolls back on every path that does not commit, a panicking hook
	// included; after a commit it only gives the connection back.
	defer t.close(ctx)
	// The object is loaded, locked (or read with its version) and
	// permitted: checks of the stored
	// object (a precondition such as If-Match) go here, before the body
	// is decoded into it; returning an error rolls back.
	if perr := g.checkPreconditions(r, p, obj); perr != nil {
		return perr
	}
	if err == nil {
		err = p.ser.DecodeRelated(ctx, body, obj, mode, p.relatedFor(g.PerformUpdate != nil, t))
	}
	if err == nil {
		switch {
		case g.PerformUpdate != nil:
			if err = g.PerformUpdate(r, t.Tx(), obj); err == nil {
				err = t.commit(ctx)
			}
		case len(p.updateCols) > 0:
			// RETURNING names the model's columns (not *), so a column the
			// table has and the model lacks cannot fail the scan after a
			// pipelined COMMIT.
			var handled bool
			if handled, err = t.updateFields(ctx, p.table, p.updateFields, p.returning, obj); !handled {
				err = t.update(ctx, g.DB.NewUpdate().Model(obj).Column(p.updateCols...).WherePK().Returning("?", bun.Safe(p.returning)), obj)
			}
		default:
			err = t.commit(ctx)
		}
	}
	if err == errStale {
		return err
	}
	if err != nil {
		// Lookups after a failed write run outside its transaction, which
		// may hold the only connection (SQLite in memory).
		t.close(ctx)
		return p.ser.RelatedError(ctx, err, obj, mode, p.relLazy)
	}
	// The transaction's connection goes back first: the reload takes
	// one, and a request holds one at a time (a pool of one, or a busy
	// pool, would otherwise wait on itself).
	t.close(ctx)
	err = g.reload(ctx, p, obj)
	g.committed(r, Updated, obj)
	if err != nil {
		return err
	}
	out := jsonbody.GetBuffer()
	*out = p.ser.AppendJSONContext(ctx, *out, obj)
	p.setWriteETag(w, t, *out)
	jsonbody.Write(w, http.StatusOK, *out)
	jsonbody.PutBuffer(out)
	return nil
}
