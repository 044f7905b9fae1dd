package authentication

import (
	"context"
)

// stateContext is a context carrying the outcome of authentication, in one
// allocation with it (context.WithValue would take a second one for a
// state that cannot be shared).
type stateContext struct {
	context.Context
	st state
}

// Value returns the state for stateKey and asks the parent otherwise.
func (c *stateContext) Value(key any) any {
	if key == (stateKey{}) {
		return &c.st
	}
	return c.Context.Value(key)
}
