package views

import "net/http"

// Change says what a committed write did to an object; a view's OnCommit
// hook receives it.
//
// OnCommit (a field of Generic) is the one after-commit point of the
// generic views: change feeds (package realtime) hang from it. It is
// called on the request's goroutine once per committed create, update or
// delete, after the COMMIT and before the response is written; never for
// a write that failed or rolled back. A created or updated obj carries
// the relations the representation shows (nested and slug fields), as
// the answer does. The hook must not block (enqueue and
// return) and must not change obj, which the view encodes into the
// response after the hook returns; it may keep obj, which the view does
// not reuse. Set it before the view serves its first request.
type Change uint8

// The changes a generic view commits.
const (
	// Created is a committed POST.
	Created Change = iota + 1
	// Updated is a committed PUT or PATCH.
	Updated
	// Deleted is a committed DELETE; the object is as it was loaded
	// before the delete.
	Deleted
)

// String returns "created", "updated" or "deleted".
func (c Change) String() string {
	switch c {
	case Created:
		return "created"
	case Updated:
		return "updated"
	case Deleted:
		return "deleted"
	}
	return "unknown"
}

// committed calls the view's OnCommit hook, if any; every commit site of
// the generic views calls it once, after its COMMIT succeeded and the
// relations the representation shows were read (reload), so that the
// hook sees the object as the answer shows it; it is called even when
// that read failed, as the write stands.
func (g *Generic[T]) committed(r *http.Request, c Change, obj *T) {
	if g.OnCommit != nil {
		g.OnCommit(r, c, obj)
	}
}
