package views

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
)

// An update in place is one auto-committed statement, UPDATE ... SET the
// fields the body gives WHERE the lookup AND every object permission's
// row condition (permissions.RowPermission) RETURNING the row: one round
// trip, as a hand-written handler makes it. It needs nothing of the
// stored object before the write: no If-Match or If-None-Match, no
// Validate hook or nested input on the serializer, no PerformUpdate, no
// Queryset, no computed field (which the read selects). Every other
// outcome (no row: missing or not permitted; a body with errors; a
// constraint the write broke) has written nothing, and the update runs
// as usual from the read on, which answers it in DRF's order (404, 403,
// then 400). A destroy in place is DELETE ... WHERE the same conditions
// RETURNING the row (for OnCommit), under the same conditions but the
// body's.

// setInPlace says whether p's updates may run in place (see above): the
// per-request conditions are checked by updateInPlace.
func (g *Generic[T]) setInPlace(p *plan[T]) {
	// run.get is set only on pgx for a view without a Queryset.
	p.inPlace = p.caps&capUpdate != 0 && p.run.get != nil && p.run.inPlace && g.PerformUpdate == nil &&
		p.computed == nil && len(p.updateIdx) > 0
	p.destroyInPlace = p.caps&capDestroy != 0 && p.run.get != nil && p.run.deleteInPlace && g.PerformDestroy == nil
}

// writtenFields are the fields an update in place writes when the body
// set the fields of set (DecodeFields' bits): all of updateFields, or
// those of a PATCH that leaves some out.
func (p *plan[T]) writtenFields(set uint64) []*schema.Field {
	var fields []*schema.Field
	for k, i := range p.updateIdx {
		switch {
		case set&(1<<i) != 0:
			if fields != nil {
				fields = append(fields, p.updateFields[k])
			}
		case fields == nil:
			fields = append(make([]*schema.Field, 0, len(p.updateFields)), p.updateFields[:k]...)
		}
	}
	if fields == nil {
		return p.updateFields
	}
	// The auto_now columns follow the serializer's: always written.
	return append(fields, p.updateFields[len(p.updateIdx):]...)
}

// rowConditions returns the conditions of the row r names and may write:
// the lookup and every object permission's row condition, with their
// arguments (in cbuf and abuf when they fit). ok is false when r cannot
// be written in place: it has an If-Match or If-None-Match, its lookup
// value does not parse, or a permission must be checked in Go.
func (g *Generic[T]) rowConditions(r *http.Request, p *plan[T], cbuf *[4]string, abuf *[4]any) (conds []string, args []any, ok bool) {
	if !p.noETag && (r.Header["If-Match"] != nil || r.Header["If-None-Match"] != nil) {
		return nil, nil, false
	}
	key, ok := p.parseLookup(chi.URLParam(r, p.urlParam))
	if !ok {
		return nil, nil, false
	}
	return permissions.RowConditions(r, p.table, g.Permissions, append(cbuf[:0], p.lookupWhere), append(abuf[:0], key))
}

// destroyInPlace is destroy in one statement. done is false when it
// deleted nothing and the destroy must run as usual.
func (g *Generic[T]) destroyInPlace(w http.ResponseWriter, r *http.Request, p *plan[T]) (done bool, err error) {
	if g.OnCommit != nil && (p.computed != nil || len(p.relations) > 0) {
		return false, nil // OnCommit gets the object as the read loads it
	}
	var cbuf [4]string
	var abuf [4]any
	conds, args, ok := g.rowConditions(r, p, &cbuf, &abuf)
	if !ok {
		return false, nil
	}
	obj := new(T)
	if done, err := wroteInPlace(p.run.deleteWhere(r.Context(), p.table, p.returning, obj, conds, args)); !done || err != nil {
		return done, err
	}
	g.committed(r, Deleted, obj)
	w.WriteHeader(http.StatusNoContent)
	return true, nil
}

// updateInPlace is update in one statement. done is false when it wrote
// nothing and the update must run as usual.
func (g *Generic[T]) updateInPlace(w http.ResponseWriter, r *http.Request, p *plan[T], mode serializers.Mode, body []byte) (done bool, err error) {
	var cbuf [4]string
	var abuf [4]any
	conds, args, ok := g.rowConditions(r, p, &cbuf, &abuf)
	if !ok {
		return false, nil
	}
	obj := new(T)
	set, ok, derr := p.ser.DecodeFields(body, obj, mode)
	if !ok || derr != nil {
		return false, nil
	}
	fields := p.writtenFields(set)
	if len(fields) == 0 {
		return false, nil
	}
	ctx := r.Context()
	if done, err := wroteInPlace(p.run.updateWhere(ctx, p.table, fields, p.returning, obj, conds, args)); !done || err != nil {
		return done, err
	}
	err = g.reload(ctx, p, obj)
	g.committed(r, Updated, obj)
	if err != nil {
		return true, err
	}
	out := jsonbody.GetBuffer()
	*out = p.ser.AppendJSONContext(ctx, *out, obj)
	if !p.noETag {
		w.Header()["Etag"] = etagHeader(*out)
	}
	jsonbody.Write(w, http.StatusOK, *out)
	jsonbody.PutBuffer(out)
	return true, nil
}

// wroteInPlace is what a write in place that wrote a row (wrote) or
// failed with err leaves to do: done, with err to answer, or not done
// (nothing written), for the usual path, which reports a constraint
// error after the object's checks, as DRF orders them.
func wroteInPlace(wrote bool, err error) (done bool, _ error) {
	var ce *models.ConstraintError
	switch {
	case err != nil && errors.As(models.Classify(err), &ce):
		return false, nil
	case err != nil:
		return true, err
	}
	return wrote, nil
}
