package openapi_test

import (
	"net/http/httptest"
	"testing"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/openapi"
)

// BenchmarkGenerate measures generating the bookstore-like document (once
// per process in a service).
func BenchmarkGenerate(b *testing.B) {
	db := dbtest.SQLite(b, tables()...)
	svc := newService(db)
	cfg := svc.config()
	b.ReportAllocs()
	for b.Loop() {
		doc, err := openapi.Generate(svc.router, cfg)
		if err != nil {
			b.Fatal(err)
		}
		_ = doc.JSON()
	}
}

// BenchmarkHandler measures serving the encoded document.
func BenchmarkHandler(b *testing.B) {
	db := dbtest.SQLite(b, tables()...)
	svc := newService(db)
	doc, err := openapi.Generate(svc.router, svc.config())
	if err != nil {
		b.Fatal(err)
	}
	h := openapi.Handler(doc)
	req := httptest.NewRequest("GET", "/api/schema/", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}
