package views_test

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/views"
)

// TestOnCommit: OnCommit sees each committed create, update and delete
// once, with the committed object, on the plain and the hook paths of both
// dialects (pgx on PostgreSQL without hooks), and never sees a write that
// failed or rolled back.
func TestOnCommit(t *testing.T) {
	type seen struct {
		c     views.Change
		id    int64
		title string
	}
	for name, open := range dbtest.Dialects(t, allModels...) {
		for _, hooks := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "/plain", true: "/hooks"}[hooks], func(t *testing.T) {
				db := open(t)
				seedAuthors(t, db)
				var got []seen
				record := func(_ *http.Request, c views.Change, b *Book) {
					got = append(got, seen{c, b.ID, b.Title})
				}
				list := &views.ListCreateView[Book]{DB: db, OnCommit: record}
				detail := &views.RetrieveUpdateDestroyView[Book]{DB: db, OnCommit: record}
				if hooks {
					list.PerformCreate = func(r *http.Request, tx bun.Tx, b *Book) error {
						if b.Title == "Rollback" {
							if _, err := tx.NewInsert().Model(b).Exec(r.Context()); err != nil {
								return err
							}
							return errors.New("rolled back after the insert")
						}
						_, err := tx.NewInsert().Model(b).Returning("*").Exec(r.Context())
						return err
					}
					detail.PerformUpdate = func(r *http.Request, tx bun.Tx, b *Book) error {
						_, err := tx.NewUpdate().Model(b).WherePK().Exec(r.Context())
						return err
					}
					detail.PerformDestroy = func(r *http.Request, tx bun.Tx, b *Book) error {
						_, err := tx.NewDelete().Model(b).WherePK().Exec(r.Context())
						return err
					}
				}
				r := chi.NewRouter()
				r.Handle("/books/", list)
				r.Handle("/books/{id}/", detail)

				steps := []struct {
					method, path, body string
					status             int
				}{
					{"POST", "/books/", dune, 201},
					{"POST", "/books/", dune, 400},                                                   // unique violation: nothing committed
					{"PATCH", "/books/1/", `{"title":"Dune Messiah"}`, 200},                          // committed
					{"PATCH", "/books/1/", `{"price_cents":-1}`, 400},                                // invalid
					{"PATCH", "/books/1/", `{"isbn":"97804410135930"}`, 400},                         // invalid
					{"PATCH", "/books/9/", `{"title":"x"}`, 404},                                     // no object
					{"POST", "/books/", `{"title":"Rollback","isbn":"9780000000002","author":1}`, 0}, // 500 with hooks, 201 without
					{"DELETE", "/books/1/", "", 204},
					{"DELETE", "/books/1/", "", 404},
				}
				for _, s := range steps {
					w := do(r, s.method, s.path, s.body)
					if s.status != 0 && w.Code != s.status {
						t.Fatalf("%s %s: %d %s, want %d", s.method, s.path, w.Code, w.Body, s.status)
					}
				}
				want := []seen{{views.Created, 1, "Dune"}, {views.Updated, 1, "Dune Messiah"}}
				if !hooks {
					want = append(want, seen{views.Created, 0, "Rollback"})
				}
				want = append(want, seen{views.Deleted, 1, "Dune Messiah"})
				if len(got) != len(want) {
					t.Fatalf("OnCommit saw %v, want %v", got, want)
				}
				for i := range want {
					if got[i].c != want[i].c || got[i].title != want[i].title || (want[i].id != 0 && got[i].id != want[i].id) {
						t.Fatalf("OnCommit call %d: %v, want %v (all: %v)", i, got[i], want[i], got)
					}
				}
			})
		}
	}
}

// TestOnCommitRelations: OnCommit sees a created or updated object with
// the relations its representation shows (here the nested writer), on
// every update path: in place and read-then-write on PostgreSQL, and on
// SQLite. An If-Match is compared with the representation the caller
// was shown, relations and method fields included.
func TestOnCommitRelations(t *testing.T) {
	for name, open := range dbtest.Dialects(t, nestedModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedNovels(t, db, 1)
			var got []string
			record := func(_ *http.Request, c views.Change, n *Novel) {
				writer := "<none>"
				if n.Writer != nil {
					writer = n.Writer.Name
				}
				got = append(got, c.String()+" "+n.Title+" by "+writer)
			}
			r := chi.NewRouter()
			r.Use(authentication.Middleware(testAuth{}))
			r.Handle("/novels/", &views.ListCreateView[Novel]{DB: db, Serializer: novelSerializer(), OnCommit: record})
			r.Handle("/novels/{id}/", &views.RetrieveUpdateDestroyView[Novel]{DB: db, Serializer: novelSerializer(), OnCommit: record})
			// The ETag of what ursula sees: her novel, "mine": true.
			etag := do(r, "GET", "/novels/1/", "", as("ursula")...).Header().Get("ETag")
			for _, s := range []struct {
				method, path, body string
				hdr                []string
			}{
				{"POST", "/novels/", `{"title":"N02","writer":2}`, nil},
				{"PATCH", "/novels/2/", `{"writer":1}`, nil},                                        // in place on PostgreSQL
				{"PUT", "/novels/2/", `{"title":"N02b","writer":2}`, nil},                           // in place on PostgreSQL
				{"PATCH", "/novels/1/", `{"title":"N01b"}`, append(as("ursula"), "If-Match", etag)}, // read, then write
			} {
				if w := do(r, s.method, s.path, s.body, s.hdr...); w.Code/100 != 2 {
					t.Fatalf("%s %s: %d %s", s.method, s.path, w.Code, w.Body)
				}
			}
			want := []string{"created N02 by iain", "updated N02 by ursula", "updated N02b by iain", "updated N01b by ursula"}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("OnCommit saw %q, want %q", got, want)
			}
		})
	}
}
