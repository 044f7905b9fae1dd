package authentication

import (
	"context"
	"net/http"
)

func contextWith(r *http.Request, st *state) context.Context {
	return context.WithValue(r.Context(), stateKey{}, st)
}
