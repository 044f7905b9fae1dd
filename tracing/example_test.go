package tracing_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cosworth/cosworth/tracing"
)

// ExampleMiddleware traces every request under the name of its route. A
// service installs its SDK's TracerProvider (with an OTLP exporter) as the
// global one; queries are traced by models.WithTracer(&tracing.PgxTracer{})
// on PostgreSQL, or db.WithQueryHook(&tracing.QueryHook{}) on SQLite.
func ExampleMiddleware() {
	rec := tracetest.NewSpanRecorder() // stands in for an exporter
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	otel.SetTracerProvider(tp)

	r := chi.NewRouter()
	r.Use(tracing.Middleware())
	r.Get("/books/{id}/", func(w http.ResponseWriter, r *http.Request) {})
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/books/42/", nil))

	for _, s := range rec.Ended() {
		fmt.Println(s.Name())
	}
	// Output:
	// GET /books/{id}
}
