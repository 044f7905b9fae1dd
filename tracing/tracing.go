// Package tracing adds OpenTelemetry traces to a Cosworth service: a span
// per request named by its chi route pattern (otelhttp), and a span per
// database query, from pgx (PgxTracer: every query on PostgreSQL, the
// views' pgx fast path included) or from bun (QueryHook: SQLite, or any
// bun DB). It is opt-in: a service that does not import it links none of
// OpenTelemetry.
//
// Spans go to the global TracerProvider (otel.SetTracerProvider) unless an
// option names another; without an SDK installed they cost next to
// nothing. Query spans carry the operation (SELECT, INSERT, ...), never
// the SQL text: bun writes argument values into it.
package tracing

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the spans this package starts.
const ScopeName = "github.com/cosworth/cosworth/tracing"

// Middleware returns otelhttp's handler around next, with the span named
// "METHOD /route/{pattern}" and the http.route attribute set once chi has
// routed the request (a request no route matched keeps otelhttp's name).
// Use it on the top chi router (r.Use) or around it; opts are otelhttp's
// (otelhttp.WithTracerProvider, otelhttp.WithPropagators, ...).
func Middleware(opts ...otelhttp.Option) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return otelhttp.NewHandler(routeNamer(next), "HTTP", opts...)
	}
}

// routeNamer renames the request's span after the handler ran, when the
// route pattern is known.
func routeNamer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rctx := chi.RouteContext(r.Context())
		if rctx == nil {
			rctx = chi.NewRouteContext()
			r = r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx))
		}
		next.ServeHTTP(w, r)
		if p := rctx.RoutePattern(); p != "" {
			span := trace.SpanFromContext(r.Context())
			span.SetName(r.Method + " " + p)
			span.SetAttributes(attribute.String("http.route", p))
		}
	})
}

// tracer returns t, or the global provider's tracer for this package.
func tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(ScopeName)
}

// operation returns the first word of a SQL statement, upper-cased and
// at most 16 letters ("SELECT", "INSERT", "BEGIN"), or "QUERY".
func operation(sql string) string {
	sql = strings.TrimLeft(sql, " \t\r\n(")
	j := 0
	for j < len(sql) && j < 16 && ((sql[j] >= 'a' && sql[j] <= 'z') || (sql[j] >= 'A' && sql[j] <= 'Z')) {
		j++
	}
	if j == 0 {
		return "QUERY"
	}
	return strings.ToUpper(sql[:j]) // no allocation when already upper case
}
