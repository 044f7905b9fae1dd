package views_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// interfere is an object permission that, the first time it is asked
// about a write, changes the row itself through another connection, as a
// concurrent writer would between the view's read and its UPDATE.
type interfere struct {
	db    *bun.DB
	set   string // the SET of the concurrent UPDATE of book 1
	calls *atomic.Int32
}

func (interfere) HasPermission(*http.Request) bool { return true }

func (p interfere) HasObjectPermission(r *http.Request, obj any) bool {
	if permissions.SafeMethod(r.Method) {
		return true
	}
	if p.calls.Add(1) == 1 {
		if _, err := p.db.NewUpdate().Model((*Book)(nil)).Set(p.set).Where("id = 1").Exec(context.Background()); err != nil {
			panic(err)
		}
	}
	b := obj.(*Book)
	return b.Owner == authentication.PrincipalFrom(r.Context()).Username
}

// TestUpdateRowChangedAfterRead: on PostgreSQL an update (and a destroy)
// reads the row
// with its version and no lock, and writes it only if the row is still
// that version. When another writer changed the row in between, nothing
// of the first attempt is written: the update runs again on the locked
// row, its permissions checked again, so the other writer's change
// survives next to this one, or the update is refused when the change
// took the permission away.
func TestUpdateRowChangedAfterRead(t *testing.T) {
	db := dbtest.Postgres(t, allModels...)
	seedBooks(t, db, "alice")
	mount := func(set string) (http.Handler, *atomic.Int32) {
		calls := new(atomic.Int32)
		r := chi.NewRouter()
		r.Use(authentication.Middleware(testAuth{}))
		r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{
			DB:          db,
			Serializer:  bookSerializer,
			Permissions: []permissions.Permission{authOrRead{}, interfere{db: db, set: set, calls: calls}},
		})
		return r, calls
	}
	stored := func() Book {
		var b Book
		dbtest.Must(t, db.NewSelect().Model(&b).Where("id = 1").Scan(context.Background()), "stored")
		return b
	}

	h, calls := mount("price_cents = 777")
	w := do(h, "PATCH", "/books/1/", `{"title":"Retitled"}`, as("alice")...)
	if w.Code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	var got Book
	dbtest.Must(t, json.Unmarshal(w.Body.Bytes(), &got), "decode %s", w.Body)
	if s := stored(); got.Title != "Retitled" || got.PriceCents != 777 || s.Title != "Retitled" || s.PriceCents != 777 {
		t.Fatalf("answered %+v, stored %+v; want the title and the concurrent price", got, s)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("object permission asked %d times, want 2 (the read, then the locked row)", n)
	}

	h, _ = mount("owner = 'bob'")
	w = do(h, "PATCH", "/books/1/", `{"title":"Not mine"}`, as("alice")...)
	if s := stored(); w.Code != http.StatusForbidden || s.Title != "Retitled" || s.Owner != "bob" {
		t.Fatalf("PATCH after the owner changed: %d %s, stored %+v; want 403 and nothing written", w.Code, w.Body, s)
	}

	// A DELETE whose row changed after the read deletes nothing then, and
	// the locked retry checks the current row: allowed, it deletes it;
	// refused, the row stays.
	h, _ = mount("owner = 'alice'")
	w = do(h, "DELETE", "/books/1/", "", as("bob")...)
	if s := stored(); w.Code != http.StatusForbidden || s.Owner != "alice" {
		t.Fatalf("DELETE after the owner changed: %d %s, stored %+v; want 403 and the row kept", w.Code, w.Body, s)
	}
	h, calls = mount("price_cents = 778")
	w = do(h, "DELETE", "/books/1/", "", as("alice")...)
	exists, err := db.NewSelect().Model((*Book)(nil)).Where("id = 1").Exists(context.Background())
	dbtest.Must(t, err, "exists")
	if w.Code != http.StatusNoContent || exists || calls.Load() != 2 {
		t.Fatalf("DELETE of a changed row: %d %s, row exists %v, permission asked %d times; want 204, gone, 2", w.Code, w.Body, exists, calls.Load())
	}
}
