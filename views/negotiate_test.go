package views_test

import (
	"net/http"
	"testing"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/views"
)

// TestContentNegotiation checks DRF's DefaultContentNegotiation with JSON
// as the only renderer on every kind of route: a generic view, a viewset
// route, a viewset action, the API root and an APIView. It runs before
// authentication, as DRF's initial does: a bad credential with an
// unsatisfiable Accept is 406, an unknown format 404.
func TestContentNegotiation(t *testing.T) {
	notAcceptable := `{"detail":"Could not satisfy the request Accept header."}`
	notFound := `{"detail":"Not found."}`
	json := []string{
		"", "application/json", "application/*", "*/*", "APPLICATION/JSON",
		"application/json; indent=4", "text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8",
		"text/html,application/json;q=0.5", "application/json;q=0", "*/json",
	}
	refused := []string{"text/html", "application/xml", "text/*", "application/xml, text/html;q=0.9", " "}
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			vs, _, _ := viewSetStore(t, db)
			api := &views.APIView{Get: func(w http.ResponseWriter, r *http.Request) error {
				return views.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
			}}
			for _, tc := range []struct {
				name string
				h    http.Handler
				path string
			}{
				{"generic", bookstore(db), "/books/"},
				{"viewset list", vs, "/books/"},
				{"viewset detail", vs, "/books/1/"},
				{"list action", vs, "/books/count_all/"},
				{"api root", vs, "/"},
				{"apiview", api, "/me/"},
			} {
				for _, a := range json {
					var hdr []string
					if a != "" {
						hdr = []string{"Accept", a}
					}
					w := do(tc.h, http.MethodGet, tc.path, "", hdr...)
					if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
						t.Fatalf("%s: Accept %q: %d %q %s", tc.name, a, w.Code, w.Header().Get("Content-Type"), w.Body)
					}
				}
				for _, a := range refused {
					w := do(tc.h, http.MethodGet, tc.path, "", "Accept", a, "Authorization", "Test bad")
					if w.Code != http.StatusNotAcceptable || !jsonEqual(w.Body.Bytes(), []byte(notAcceptable)) {
						t.Fatalf("%s: Accept %q: %d %s", tc.name, a, w.Code, w.Body)
					}
				}
				for _, q := range []string{"format=json", "format=xml&format=json", "a=1&form%61t=json"} {
					if w := do(tc.h, http.MethodGet, tc.path+"?"+q, ""); w.Code != http.StatusOK {
						t.Fatalf("%s: ?%s: %d %s", tc.name, q, w.Code, w.Body)
					}
				}
				for _, q := range []string{"format=xml", "format=json&format=api", "format=JSON", "format=%zz&format=yaml"} {
					w := do(tc.h, http.MethodGet, tc.path+"?"+q, "", "Authorization", "Test bad")
					if w.Code != http.StatusNotFound || !jsonEqual(w.Body.Bytes(), []byte(notFound)) {
						t.Fatalf("%s: ?%s: %d %s", tc.name, q, w.Code, w.Body)
					}
				}
				// ?format=json selects JSON, but the Accept header must still allow it.
				if w := do(tc.h, http.MethodGet, tc.path+"?format=json", "", "Accept", "text/html"); w.Code != http.StatusNotAcceptable {
					t.Fatalf("%s: ?format=json with Accept text/html: %d %s", tc.name, w.Code, w.Body)
				}
			}
			// The suffix wins over ?format=, as DRF's format_suffix does.
			if w := do(vs, http.MethodGet, "/books.json?format=xml", ""); w.Code != http.StatusOK {
				t.Fatalf("suffix .json with ?format=xml: %d %s", w.Code, w.Body)
			}
			// A write is negotiated before its permission check and body.
			if w := do(vs, http.MethodPost, "/books/", `{}`, "Accept", "text/html"); w.Code != http.StatusNotAcceptable {
				t.Fatalf("anonymous POST with Accept text/html: %d %s", w.Code, w.Body)
			}
		})
	}
}
