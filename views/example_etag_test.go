package views_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/views"
)

// Every generic view answers GET with an ETag and honours If-None-Match
// (304) and, on writes, If-Match: an edit based on an old version of the
// object is refused with 412 and changes nothing, so two clients cannot
// overwrite each other's edits. NoETag turns this off.
func ExampleGeneric_conditionalRequests() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "views-etag-example")
	defer os.RemoveAll(dir)
	db, err := models.Open(ctx, filepath.Join(dir, "notes.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := models.CreateTables(ctx, db, (*Note)(nil)); err != nil {
		log.Fatal(err)
	}
	if _, err := db.NewInsert().Model(&Note{Text: "buy milk", Owner: "alice"}).Exec(ctx); err != nil {
		log.Fatal(err)
	}
	r := chi.NewRouter()
	r.Handle("/notes/{id}/", &views.RetrieveUpdateDestroyView[Note]{DB: db})

	call := func(method, body string, header ...string) string {
		req := httptest.NewRequest(method, "/notes/1/", strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %s -> %d %s", method, strings.Join(header, ": "), w.Code, w.Body.String())))
		return w.Header().Get("ETag")
	}
	v1 := call("GET", "")
	call("GET", "", "If-None-Match", v1)                              // unchanged: 304, no body
	v2 := call("PATCH", `{"text":"buy oat milk"}`, "If-Match", v1)    // based on v1: applied
	call("PATCH", `{"text":"buy cream"}`, "If-Match", v1)             // also based on v1: refused
	fmt.Println(v1 != v2, call("GET", "", "If-None-Match", v1) == v2) // the new version is served
	// Output:
	// GET  -> 200 {"id":1,"text":"buy milk","owner":"alice"}
	// GET If-None-Match: "f477e8a8ef7c630a" -> 304
	// PATCH If-Match: "f477e8a8ef7c630a" -> 200 {"id":1,"text":"buy oat milk","owner":"alice"}
	// PATCH If-Match: "f477e8a8ef7c630a" -> 412 {"detail":"Precondition failed."}
	// GET If-None-Match: "f477e8a8ef7c630a" -> 200 {"id":1,"text":"buy oat milk","owner":"alice"}
	// true true
}
