package ui_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/openapi/ui"
)

func TestRedoc(t *testing.T) {
	h := ui.Redoc(`Books & "more"`, "/api/schema/?v=1&x=<2>")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/docs/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`<title>Books &amp; &#34;more&#34;</title>`,
		`spec-url="/api/schema/?v=1&amp;x=%3c2%3e"`,
		`<script src="` + ui.RedocScript + `">`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/docs/", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func ExampleRedoc() {
	mux := http.NewServeMux()
	mux.Handle("GET /api/docs/", ui.Redoc("Bookstore API", "/api/schema/"))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/docs/", nil))
	body := rec.Body.String()
	start := strings.Index(body, "<redoc")
	fmt.Println(body[start : strings.Index(body[start:], ">")+start+1])
	// Output: <redoc spec-url="/api/schema/">
}
