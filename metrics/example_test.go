package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cosworth/cosworth/metrics"
)

// ExampleHTTP measures every route of a router and serves the metrics at
// /metrics. Add metrics.NewDBCollector and metrics.NewRedisCollector to the
// same registry for the pools.
func ExampleHTTP() {
	reg := prometheus.NewRegistry()
	m := metrics.NewHTTP(reg, metrics.Options{})

	r := chi.NewRouter()
	r.Use(m.Middleware)
	r.Get("/books/{id}/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "{}") })
	r.Handle("/metrics", metrics.Handler(reg))

	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/books/1/", nil))
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/books/2/", nil))

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(line, "cosworth_http_requests_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// cosworth_http_requests_total{code="200",method="GET",route="/books/{id}"} 2
}
