// Package reqscope holds what the server middleware records about a
// request for its logs: the request id and the logger, carried in the
// request's context and read by the views and the error responses.
package reqscope

import (
	"context"
	"log/slog"
	"sync/atomic"
)

type scopeKey struct{}

// Scope is what the server middleware records about a request for its
// logs: the request id, and the logger the request-scoped logger derives
// from. The derived logger (base.With(request_id)) is built on first use,
// so a request that logs nothing but its access line does not pay for it.
type Scope struct {
	// ID is the request id.
	ID     string
	base   *slog.Logger
	logger atomic.Pointer[slog.Logger]
}

// Context is a context carrying a Scope, in a single allocation with it
// (context.WithValue would take one for the value and one for the
// context). Embed it in a per-request struct, call Init, and derive the
// request's context from it.
type Context struct {
	context.Context
	scope Scope
}

// Init makes c the child of parent carrying the request id and the base
// logger. Call it once, before c is used as a context.
func (c *Context) Init(parent context.Context, id string, base *slog.Logger) {
	c.Context = parent
	c.scope.ID = id
	c.scope.base = base
}

// Value returns the Scope for the scope key and asks the parent otherwise.
func (c *Context) Value(key any) any {
	if key == (scopeKey{}) {
		return &c.scope
	}
	return c.Context.Value(key)
}

// Logger returns the request-scoped logger: the base logger with the
// request_id attribute, built once.
func (s *Scope) Logger() *slog.Logger {
	if l := s.logger.Load(); l != nil {
		return l
	}
	s.logger.CompareAndSwap(nil, s.base.With(slog.String("request_id", s.ID)))
	return s.logger.Load()
}

// Base returns the logger the request-scoped one derives from, for log
// lines that add the request_id attribute themselves.
func (s *Scope) Base() *slog.Logger { return s.base }

// From returns the Scope of ctx, or nil outside a request the server
// middleware handles.
func From(ctx context.Context) *Scope {
	s, _ := ctx.Value(scopeKey{}).(*Scope)
	return s
}

// Logger returns the request-scoped logger of ctx, or slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	if s := From(ctx); s != nil {
		return s.Logger()
	}
	return slog.Default()
}
