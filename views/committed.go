package views

import "net/http"

// change is the kind of write a view committed.
type change uint8

const (
	changeCreate change = iota + 1
	changeUpdate
	changeDestroy
)

// committed is the one place every successful create, update and destroy
// of a generic view passes through, after its transaction (or its single
// INSERT) committed and before the response is written: obj is the
// object as committed (for a destroy, as it was loaded). Features that
// follow committed writes (a change feed, Idempotency-Key replies) hook
// in here, in one place for every view kind and engine. It must not fail
// the request: a committed write is never answered with an error, so
// anything done here that can fail reports its failure elsewhere (a log).
func (g *Generic[T]) committed(r *http.Request, kind change, obj *T) {
	_, _, _ = r, kind, obj
}
