package views_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/views"
)

// proxiedPostgres opens a DB on a fresh PostgreSQL schema with the test
// models' tables, through a proxy that counts what the client sends, with
// one pooled connection (so its statements, once prepared, stay
// prepared); both close when the test ends.
func proxiedPostgres(t *testing.T) (*bun.DB, *faultproxy.Proxy) {
	return dbtest.ProxiedPostgres(t, allModels...)
}

// TestWriteRoundTrips counts the round trips to PostgreSQL of a page of
// a list with its count (one: both statements in one pipeline), a create
// (one: the INSERT ... RETURNING), an update (one: the UPDATE ...
// RETURNING, auto-committed, in place) and a destroy (one: the DELETE ...
// RETURNING, in place)
// once the connection has prepared its statements, through a proxy that
// counts what the client sends.
func TestWriteRoundTrips(t *testing.T) {
	db, proxy := proxiedPostgres(t)
	seedBooks(t, db, "alice")
	r := chi.NewRouter()
	r.Handle("/books/", &views.ListCreateView[Book]{DB: db, Paginator: pagination.LimitOffset{}})
	r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{DB: db})
	tests := []struct {
		method, path, body string
		status, trips      int
	}{
		{"GET", "/books/?limit=2&offset=1", "", http.StatusOK, 1}, // the count and the page, pipelined
		{"GET", "/books/?limit=2&offset=900", "", http.StatusOK, 1},
		{"POST", "/books/", `{"title":"x","isbn":"9780000000099","author":1}`, http.StatusCreated, 1},
		{"PATCH", "/books/1/", `{"title":"y"}`, http.StatusOK, 1},
		{"PUT", "/books/1/", `{"title":"z","isbn":"9780000000098","author":1,"price_cents":5}`, http.StatusOK, 1},
		{"DELETE", "/books/2/", "", http.StatusNoContent, 1},
	}
	for _, tt := range tests {
		// The first run prepares the connection's statements and learns
		// the returned columns; count the second.
		body := tt.body
		if w := do(r, tt.method, tt.path, body); w.Code != tt.status && tt.method != "DELETE" {
			t.Fatalf("%s %s: status %d: %s", tt.method, tt.path, w.Code, w.Body)
		}
		path := tt.path
		if tt.method == "DELETE" {
			path = "/books/3/"
		}
		if tt.method == "POST" {
			body = `{"title":"x","isbn":"9780000000097","author":1}`
		}
		before := proxy.Sends()
		w := do(r, tt.method, path, body)
		if w.Code != tt.status {
			t.Fatalf("%s %s: status %d: %s", tt.method, path, w.Code, w.Body)
		}
		if got := proxy.Sends() - before; got != tt.trips {
			t.Errorf("%s %s: %d round trips, want %d", tt.method, path, got, tt.trips)
		}
	}
}

// TestBaseModelRoundTrips: a model embedding models.Base takes the same
// one-round-trip reads and writes, with the timestamps its hook sets:
// created_at once, updated_at on every write.
func TestBaseModelRoundTrips(t *testing.T) {
	db, proxy := proxiedPostgres(t)
	dbtest.Must(t, models.CreateTables(t.Context(), db, (*Stamped)(nil)), "create table")
	r := chi.NewRouter()
	r.Handle("/stamped/", &views.ListCreateView[Stamped]{DB: db})
	r.Handle("/stamped/{id}/", &views.RetrieveUpdateDestroyView[Stamped]{DB: db})
	type out struct {
		ID        int64     `json:"id"`
		Text      string    `json:"text"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	// Each request twice: the first prepares the connection's statements;
	// count the second.
	send := func(method, path, body string, status int) out {
		t.Helper()
		var o out
		for i := range 2 {
			p := path
			if method == "DELETE" {
				p = fmt.Sprintf("/stamped/%d/", i+1)
			}
			before := proxy.Sends()
			w := do(r, method, p, body)
			if w.Code != status {
				t.Fatalf("%s %s: status %d: %s", method, p, w.Code, w.Body)
			}
			if got := proxy.Sends() - before; i == 1 && got != 1 {
				t.Errorf("%s %s: %d round trips, want 1", method, p, got)
			}
			if status != http.StatusNoContent {
				dbtest.Must(t, json.Unmarshal(w.Body.Bytes(), &o), "decode %s", w.Body)
			}
		}
		return o
	}
	created := send("POST", "/stamped/", `{"text":"a"}`, http.StatusCreated)
	if created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Fatalf("created %+v: want both timestamps set, equal", created)
	}
	path := fmt.Sprintf("/stamped/%d/", created.ID)
	if got := send("GET", path, "", http.StatusOK); got != created {
		t.Fatalf("retrieved %+v, created %+v", got, created)
	}
	for _, c := range []struct{ method, body string }{{"PATCH", `{"text":"b"}`}, {"PUT", `{"text":"c"}`}} {
		prev := send("GET", path, "", http.StatusOK)
		got := send(c.method, path, c.body, http.StatusOK)
		if !got.CreatedAt.Equal(created.CreatedAt) || !got.UpdatedAt.After(prev.UpdatedAt) {
			t.Fatalf("%s: %+v after %+v: want created_at kept, updated_at later", c.method, got, prev)
		}
		if stored := send("GET", path, "", http.StatusOK); stored != got {
			t.Fatalf("%s returned %+v, stored %+v", c.method, got, stored)
		}
	}
	send("DELETE", "", "", http.StatusNoContent)
}

// TestNestedWriteRoundTrips: a write of a model whose representation
// shows a relation reads it back by primary key with one statement for
// every row (the key a parameter), so a create is the INSERT and that
// read, and an update in place the UPDATE and that read; an update that
// read the row with the relation and left its key alone does not read
// it again, nor does a create whose BeforeCreate set the relation with
// the object's key; a read is one statement with the relation joined.
func TestNestedWriteRoundTrips(t *testing.T) {
	db, proxy := proxiedPostgres(t)
	dbtest.Must(t, models.CreateTables(t.Context(), db, nestedModels...), "tables")
	seedNovels(t, db, 1)
	r := chi.NewRouter()
	r.Handle("/novels/", &views.ListCreateView[Novel]{DB: db, Serializer: novelSerializer()})
	r.Handle("/novels/{id}/", &views.RetrieveUpdateDestroyView[Novel]{DB: db, Serializer: novelSerializer()})
	// A BeforeCreate that sets the relation with its key: no read back.
	r.Handle("/iain/", &views.CreateView[Novel]{DB: db, Serializer: novelSerializer(), BeforeCreate: func(_ *http.Request, n *Novel) error {
		n.WriterID, n.Writer = 2, &Writer{ID: 2, Name: "iain"}
		return nil
	}})
	// One whose relation does not match the key: read back.
	r.Handle("/mismatch/", &views.CreateView[Novel]{DB: db, Serializer: novelSerializer(), BeforeCreate: func(_ *http.Request, n *Novel) error {
		n.Writer = &Writer{ID: 1, Name: "ursula"}
		return nil
	}})
	n := 0
	ifMatch := func() []string {
		return []string{"If-Match", do(r, "GET", "/novels/1/", "").Header().Get("ETag")}
	}
	for _, tt := range []struct {
		method, path string
		body         func() string
		hdr          func() []string
		status       int
		want         string
		trips        int
	}{
		{"POST", "/novels/", func() string { n++; return fmt.Sprintf(`{"title":"N%d","writer":2}`, n) }, nil, http.StatusCreated, `"writer":{"id":2,"name":"iain"}`, 2},
		{"POST", "/iain/", func() string { n++; return fmt.Sprintf(`{"title":"N%d","writer":1}`, n) }, nil, http.StatusCreated, `"writer":{"id":2,"name":"iain"}`, 1},
		{"POST", "/mismatch/", func() string { n++; return fmt.Sprintf(`{"title":"N%d","writer":2}`, n) }, nil, http.StatusCreated, `"writer":{"id":2,"name":"iain"}`, 2},
		{"PATCH", "/novels/1/", func() string { return `{"writer":2}` }, nil, http.StatusOK, `"writer":{"id":2,"name":"iain"}`, 2},
		// With If-Match: the read with the row version (the writer
		// joined), the UPDATE of that version, and, when the writer
		// changed, the read of the new one (after the first connection
		// went back: the pool has one).
		{"PATCH", "/novels/1/", func() string { return `{"title":"N"}` }, ifMatch, http.StatusOK, `"writer":{"id":2,"name":"iain"}`, 2},
		{"PATCH", "/novels/1/", func() string { n++; return fmt.Sprintf(`{"writer":%d}`, n%2+1) }, ifMatch, http.StatusOK, `"writer":{"id":`, 3},
		{"GET", "/novels/1/", func() string { return "" }, nil, http.StatusOK, `"writer":{"id":`, 1},
	} {
		hdr := func() []string { return nil }
		if tt.hdr != nil {
			hdr = tt.hdr
		}
		// The first run prepares the connection's statements; count the second.
		do(r, tt.method, tt.path, tt.body(), hdr()...)
		h := hdr()
		before := proxy.Sends()
		w := do(r, tt.method, tt.path, tt.body(), h...)
		if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.want) {
			t.Fatalf("%s %s: %d %s, want %d with %s", tt.method, tt.path, w.Code, w.Body, tt.status, tt.want)
		}
		if got := proxy.Sends() - before; got != tt.trips {
			t.Errorf("%s %s: %d round trips, want %d", tt.method, tt.path, got, tt.trips)
		}
	}
}
