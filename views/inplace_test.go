package views_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// TestUpdateInPlace: on PostgreSQL an update whose object permissions
// are all RowPermissions is one statement (one round trip) when it
// succeeds; every other outcome writes nothing in that statement and is
// answered as before, in DRF's order (404, then 403, then 400), by the
// usual read-then-write path.
func TestUpdateInPlace(t *testing.T) {
	db, proxy := proxiedPostgres(t)
	seedBooks(t, db, "alice", "bob")
	var commits atomic.Int32
	owner := permissions.OwnerOrReadOnly[Book]{OwnerName: func(b *Book) string { return b.Owner }}
	staffToo := owner
	staffToo.Staff = true
	for name, perms := range map[string][]permissions.Permission{
		"owner or staff": {permissions.IsAuthenticatedOrReadOnly, staffToo},
		// The same grants through Or: its row condition is the owner's
		// for a user who is not staff, and none for staff.
		"Or": {permissions.IsAuthenticatedOrReadOnly, permissions.Or(owner, permissions.IsAdminUser)},
	} {
		t.Run(name, func(t *testing.T) { testUpdateInPlace(t, db, proxy, &commits, perms) })
	}
}

func testUpdateInPlace(t *testing.T, db *bun.DB, proxy *faultproxy.Proxy, commits *atomic.Int32, perms []permissions.Permission) {
	ctx := t.Context()
	r := chi.NewRouter()
	r.Use(authentication.Middleware(testAuth{}))
	r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{
		DB:          db,
		Permissions: perms,
		OnCommit:    func(*http.Request, views.Change, *Book) { commits.Add(1) },
	})
	stored := func(id int64) Book {
		t.Helper()
		var b Book
		dbtest.Must(t, db.NewSelect().Model(&b).Where("id = ?", id).Scan(ctx), "stored book %d", id)
		return b
	}
	const denied = `{"detail":"You do not have permission to perform this action."}`
	tests := []struct {
		name, method, path, body string
		hdr                      []string
		code                     int
		want                     string // the answer's body, for errors
		trips                    int    // round trips, when one (0: not counted)
		commits                  int32
	}{
		{name: "owner patch", method: "PATCH", path: "/books/1/", body: `{"title":"T1"}`, hdr: as("alice"), code: 200, trips: 1, commits: 1},
		{name: "owner put", method: "PUT", path: "/books/1/", body: `{"title":"T2","isbn":"9780000000001","author":1,"price_cents":150}`, hdr: as("alice"), code: 200, trips: 1, commits: 1},
		{name: "put leaves out an optional field", method: "PUT", path: "/books/1/", body: `{"title":"T3","isbn":"9780000000001","author":1}`, hdr: as("alice"), code: 200, trips: 1, commits: 1},
		{name: "staff", method: "PATCH", path: "/books/1/", body: `{"title":"T4"}`, hdr: as("admin"), code: 200, trips: 1, commits: 1},
		{name: "not the owner", method: "PATCH", path: "/books/1/", body: `{"title":"X"}`, hdr: as("bob"), code: 403, want: denied},
		{name: "not the owner, bad body", method: "PATCH", path: "/books/1/", body: `{"price_cents":-1}`, hdr: as("bob"), code: 403, want: denied},
		{name: "missing", method: "PATCH", path: "/books/99/", body: `{"title":"X"}`, hdr: as("alice"), code: 404, want: `{"detail":"Not found."}`},
		{name: "bad body", method: "PATCH", path: "/books/1/", body: `{"price_cents":-1}`, hdr: as("alice"), code: 400, want: `{"price_cents":["Ensure this value is greater than or equal to 0."]}`},
		{name: "unique", method: "PATCH", path: "/books/1/", body: `{"isbn":"9780000000002"}`, hdr: as("alice"), code: 400, want: `{"isbn":["book with this isbn already exists."]}`},
		{name: "foreign key", method: "PATCH", path: "/books/1/", body: `{"author":99}`, hdr: as("alice"), code: 400, want: `{"author":["Invalid pk \"99\" - object does not exist."]}`},
		{name: "if-match", method: "PATCH", path: "/books/1/", body: `{"title":"X"}`, hdr: append(as("alice"), "If-Match", `"0000000000000000"`), code: 412, want: `{"detail":"Precondition failed."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A first run prepares the connection's statements; the
			// second is the one measured.
			for run := range 2 {
				before, beforeRow, beforeCommits := proxy.Sends(), stored(1), commits.Load()
				w := do(r, tt.method, tt.path, tt.body, tt.hdr...)
				if w.Code != tt.code {
					t.Fatalf("%s %s: %d %s, want %d", tt.method, tt.path, w.Code, w.Body, tt.code)
				}
				if got := commits.Load() - beforeCommits; got != tt.commits {
					t.Errorf("OnCommit called %d times, want %d", got, tt.commits)
				}
				if tt.code != 200 {
					if w.Body.String() != tt.want {
						t.Errorf("body %s, want %s", w.Body, tt.want)
					}
					if after := stored(1); after != beforeRow {
						t.Errorf("stored %+v, was %+v: a refused update wrote", after, beforeRow)
					}
					continue
				}
				var got Book
				dbtest.Must(t, json.Unmarshal(w.Body.Bytes(), &got), "decode %s", w.Body)
				want := beforeRow
				dbtest.Must(t, json.Unmarshal([]byte(tt.body), &want), "body")
				if got != want || stored(1) != want {
					t.Errorf("answered %+v, stored %+v; want %+v", got, stored(1), want)
				}
				if trips := proxy.Sends() - before - 2; run == 1 && tt.trips > 0 && trips != tt.trips {
					// Two of the sends are the test's own reads of the row.
					t.Errorf("%d round trips, want %d", trips, tt.trips)
				}
				if w.Header().Get("ETag") == "" {
					t.Errorf("no ETag")
				}
			}
		})
	}
}

// denyAll is an object permission without a row condition.
type denyAll struct{}

func (denyAll) HasPermission(*http.Request) bool            { return true }
func (denyAll) HasObjectPermission(*http.Request, any) bool { return false }

// TestUpdateInPlaceNeedsRowPermissions: a permission the database cannot
// check keeps the update on the read-then-write path, so its Go check
// decides.
func TestUpdateInPlaceNeedsRowPermissions(t *testing.T) {
	db := dbtest.Postgres(t, allModels...)
	seedBooks(t, db, "alice")
	r := chi.NewRouter()
	r.Use(authentication.Middleware(testAuth{}))
	r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{
		DB:          db,
		Permissions: []permissions.Permission{permissions.IsAuthenticated, denyAll{}},
	})
	w := do(r, "PATCH", "/books/1/", `{"title":"X"}`, as("alice")...)
	if w.Code != http.StatusForbidden {
		t.Fatalf("PATCH: %d %s, want 403", w.Code, w.Body)
	}
	var b Book
	dbtest.Must(t, db.NewSelect().Model(&b).Where("id = 1").Scan(context.Background()), "stored")
	if b.Title != "Book 1" {
		t.Fatalf("title %q: the refused update wrote", b.Title)
	}
}

// TestDestroyInPlace: on PostgreSQL a destroy whose object permissions
// are all RowPermissions is one DELETE ... RETURNING when it succeeds,
// and OnCommit gets the deleted object; a refused, missing or
// preconditioned destroy deletes nothing there and is answered as before.
func TestDestroyInPlace(t *testing.T) {
	db, proxy := proxiedPostgres(t)
	ctx := t.Context()
	seedBooks(t, db, "alice", "alice", "alice", "bob")
	var deleted []Book
	r := chi.NewRouter()
	r.Use(authentication.Middleware(testAuth{}))
	r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{
		DB: db,
		Permissions: []permissions.Permission{
			permissions.IsAuthenticatedOrReadOnly,
			permissions.OwnerOrReadOnly[Book]{OwnerName: func(b *Book) string { return b.Owner }},
		},
		OnCommit: func(_ *http.Request, c views.Change, b *Book) {
			if c == views.Deleted {
				deleted = append(deleted, *b)
			}
		},
	})
	exists := func(id int64) bool {
		t.Helper()
		n, err := db.NewSelect().Model((*Book)(nil)).Where("id = ?", id).Count(ctx)
		dbtest.Must(t, err, "count book %d", id)
		return n == 1
	}
	const denied = `{"detail":"You do not have permission to perform this action."}`
	tests := []struct {
		name, path string
		hdr        []string
		code       int
		want       string
		trips      int
	}{
		{name: "not the owner", path: "/books/4/", hdr: as("alice"), code: 403, want: denied},
		{name: "missing", path: "/books/99/", hdr: as("alice"), code: 404, want: `{"detail":"Not found."}`},
		{name: "if-match", path: "/books/1/", hdr: append(as("alice"), "If-Match", `"0000000000000000"`), code: 412, want: `{"detail":"Precondition failed."}`},
		{name: "owner, first", path: "/books/1/", hdr: as("alice"), code: 204},
		{name: "owner", path: "/books/2/", hdr: as("alice"), code: 204, trips: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deleted = nil
			before := proxy.Sends()
			w := do(r, "DELETE", tt.path, "", tt.hdr...)
			sends := proxy.Sends() - before
			if w.Code != tt.code {
				t.Fatalf("DELETE %s: %d %s, want %d", tt.path, w.Code, w.Body, tt.code)
			}
			if w.Body.String() != tt.want {
				t.Errorf("body %s, want %s", w.Body, tt.want)
			}
			var id int64
			_, _ = fmt.Sscanf(tt.path, "/books/%d/", &id)
			if tt.code == 204 {
				if exists(id) || len(deleted) != 1 || deleted[0].ID != id || deleted[0].Title != fmt.Sprintf("Book %d", id) || deleted[0].Owner != "alice" {
					t.Errorf("book %d still there (%v), or OnCommit got %+v", id, exists(id), deleted)
				}
			} else if id < 99 && !exists(id) {
				t.Errorf("book %d deleted by a refused destroy", id)
			}
			if tt.trips > 0 && sends != tt.trips {
				t.Errorf("%d round trips, want %d", sends, tt.trips)
			}
		})
	}
}
