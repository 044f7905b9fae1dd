package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/tracing"
	"github.com/cosworth/cosworth/views"
)

type item struct {
	bun.BaseModel `bun:"table:items"`
	ID            int64  `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Title         string `bun:",notnull,unique" json:"title" validate:"required"`
}

func provider() (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)), rec
}

func attr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func do(h http.Handler, method, path, body string) int {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func TestMiddlewareNamesSpansByRoute(t *testing.T) {
	tp, rec := provider()
	r := chi.NewRouter()
	r.Use(tracing.Middleware(otelhttp.WithTracerProvider(tp)))
	r.Get("/books/{id}/", func(w http.ResponseWriter, r *http.Request) {})
	do(r, "GET", "/books/7/", "")
	do(r, "GET", "/nowhere", "")
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	if s := spans[0]; s.Name() != "GET /books/{id}" || s.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q kind %v, want GET /books/{id}, server", s.Name(), s.SpanKind())
	} else if v, _ := attr(s, "http.route"); v.AsString() != "/books/{id}" {
		t.Errorf("http.route %q", v.AsString())
	}
	if s := spans[1]; strings.Contains(s.Name(), "nowhere") {
		t.Errorf("unmatched request span named by its path: %q", s.Name())
	}
}

// TestDatabaseSpans checks that the database work of a request is traced
// as children of its span: on PostgreSQL by PgxTracer (which sees the
// views' pgx fast path too), on SQLite by QueryHook.
func TestDatabaseSpans(t *testing.T) {
	ctx := context.Background()
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			tp, rec := provider()
			var db *bun.DB
			if dialect == "postgres" {
				dsn, _ := dbtest.PostgresSchemaURL(t)
				var err error
				db, err = models.Open(ctx, dsn, models.WithTracer(&tracing.PgxTracer{TracerProvider: tp}))
				dbtest.Must(t, err, "open")
				t.Cleanup(func() { _ = db.Close() })
				dbtest.Must(t, models.CreateTables(ctx, db, (*item)(nil)), "tables")
			} else {
				db = dbtest.SQLite(t, (*item)(nil))
				db = db.WithQueryHook(&tracing.QueryHook{TracerProvider: tp})
			}
			r := chi.NewRouter()
			r.Use(tracing.Middleware(otelhttp.WithTracerProvider(tp)))
			r.Handle("/items/", &views.ListCreateView[item]{DB: db})
			r.Handle("/items/{id}/", &views.RetrieveUpdateDestroyView[item]{DB: db})
			if c := do(r, "POST", "/items/", `{"title":"a"}`); c != 201 {
				t.Fatalf("create: %d", c)
			}
			if c := do(r, "POST", "/items/", `{"title":"a"}`); c != 400 {
				t.Fatalf("duplicate create: %d", c)
			}
			rec.Reset()
			for _, c := range []struct {
				method, path, body string
				status             int
			}{
				{"GET", "/items/", "", 200},
				{"GET", "/items/1/", "", 200},
				{"PATCH", "/items/1/", `{"title":"b"}`, 200},
			} {
				if got := do(r, c.method, c.path, c.body); got != c.status {
					t.Fatalf("%s %s: %d", c.method, c.path, got)
				}
			}
			spans := rec.Ended()
			servers := map[trace.SpanID]string{}
			for _, s := range spans {
				if s.SpanKind() == trace.SpanKindServer {
					servers[s.SpanContext().SpanID()] = s.Name()
				}
			}
			if len(servers) != 3 {
				t.Fatalf("%d request spans, want 3", len(servers))
			}
			parents := map[trace.SpanID]trace.SpanID{}
			for _, s := range spans {
				parents[s.SpanContext().SpanID()] = s.Parent().SpanID()
			}
			queries := map[string]int{} // request span name -> query spans under it
			for _, s := range spans {
				if s.SpanKind() != trace.SpanKindClient {
					continue
				}
				// bun makes COMMIT and ROLLBACK children of BEGIN.
				p := s.Parent().SpanID()
				if _, ok := servers[p]; !ok {
					p = parents[p]
				}
				name, ok := servers[p]
				if !ok {
					t.Errorf("query span %q is not under a request span", s.Name())
				}
				queries[name]++
			}
			for _, name := range []string{"GET /items", "GET /items/{id}", "PATCH /items/{id}"} {
				if queries[name] == 0 {
					t.Errorf("no query span under %q: %v", name, queries)
				}
			}
		})
	}
}

func TestFailedQuerySpan(t *testing.T) {
	ctx := context.Background()
	tp, rec := provider()
	dsn, _ := dbtest.PostgresSchemaURL(t)
	db, err := models.Open(ctx, dsn, models.WithTracer(&tracing.PgxTracer{TracerProvider: tp}))
	dbtest.Must(t, err, "open")
	t.Cleanup(func() { _ = db.Close() })
	dbtest.Must(t, models.CreateTables(ctx, db, (*item)(nil)), "tables")
	_, err = db.NewInsert().Model(&item{Title: "secret-value"}).Exec(ctx)
	dbtest.Must(t, err, "insert")
	rec.Reset()
	if _, err := db.NewInsert().Model(&item{Title: "secret-value"}).Exec(ctx); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name() != "INSERT" || s.Status().Code != codes.Error {
		t.Errorf("span %q status %v, want INSERT, error", s.Name(), s.Status())
	}
	if v, _ := attr(s, "db.response.status_code"); v.AsString() != "23505" {
		t.Errorf("SQLSTATE %q, want 23505", v.AsString())
	}
	for _, kv := range s.Attributes() {
		if strings.Contains(kv.Value.String(), "secret-value") {
			t.Errorf("attribute %s carries a row value", kv.Key)
		}
	}
	for _, e := range s.Events() {
		for _, kv := range e.Attributes {
			if strings.Contains(kv.Value.String(), "secret-value") {
				t.Errorf("event %s carries a row value", e.Name)
			}
		}
	}
}

// BenchmarkMiddlewareNoSDK is the cost of the middleware when no SDK is
// installed (the global no-op provider); compare BenchmarkRouterAlone.
func BenchmarkMiddlewareNoSDK(b *testing.B) {
	r := chi.NewRouter()
	r.Use(tracing.Middleware())
	r.Get("/books/{id}/", func(w http.ResponseWriter, r *http.Request) {})
	bench(b, r)
}

func BenchmarkRouterAlone(b *testing.B) {
	r := chi.NewRouter()
	r.Get("/books/{id}/", func(w http.ResponseWriter, r *http.Request) {})
	bench(b, r)
}

func bench(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/books/1/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
