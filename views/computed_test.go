package views_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

// CountedWriter has two computed fields: the number of its novels (a correlated
// count) and their pages in total.
type CountedWriter struct {
	bun.BaseModel `bun:"table:writers,alias:writer"`
	ID            int64  `bun:",pk,autoincrement" json:"id"`
	Name          string `bun:",notnull" json:"name" validate:"required"`
	NovelCount    int64  `bun:"novel_count,scanonly" json:"novel_count"`
	Pages         int64  `bun:"pages,scanonly" json:"pages"`
}

// Annotations declares CountedWriter's computed fields.
func (*CountedWriter) Annotations() map[string]string {
	return map[string]string{
		"novel_count": "SELECT count(*) FROM novels AS n WHERE n.writer_id = ?TableAlias.id",
		"pages":       "SELECT CAST(COALESCE(sum(n.pages), 0) AS BIGINT) FROM novels AS n WHERE n.writer_id = ?TableAlias.id",
	}
}

// CountedNovel is a writer's book.
type CountedNovel struct {
	bun.BaseModel `bun:"table:novels,alias:novel"`
	ID            int64 `bun:",pk,autoincrement" json:"id"`
	WriterID      int64 `bun:"writer_id,notnull" json:"writer"`
	Pages         int64 `bun:"pages,notnull" json:"pages"`
}

// TestComputedFields: computed fields are selected with the rows of lists
// and detail reads (and the object an update answers with), never
// written, and usable in ordering and filters; on PostgreSQL the reads
// run on pgx (bun runs no query).
func TestComputedFields(t *testing.T) {
	for name, open := range dbtest.Dialects(t, (*CountedWriter)(nil), (*CountedNovel)(nil)) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := t.Context()
			writers := []CountedWriter{{Name: "Ann"}, {Name: "Bob"}, {Name: "Cy"}}
			_, err := db.NewInsert().Model(&writers).Exec(ctx)
			dbtest.Must(t, err, "insert writers")
			novels := []CountedNovel{{WriterID: 1, Pages: 100}, {WriterID: 1, Pages: 200}, {WriterID: 2, Pages: 50}, {WriterID: 1, Pages: 1}}
			_, err = db.NewInsert().Model(&novels).Exec(ctx)
			dbtest.Must(t, err, "insert novels")

			r := chi.NewRouter()
			r.Handle("/writers/", &views.ListCreateView[CountedWriter]{
				DB:        db,
				Paginator: pagination.LimitOffset{},
				Ordering:  []string{"name", "novel_count", "pages"},
				Filter:    []string{"novel_count", "novel_count__gte", "pages__range", "name__icontains"},
			})
			r.Handle("/writers/{id}/", &views.RetrieveUpdateDestroyView[CountedWriter]{DB: db})
			ann := `{"id":1,"name":"Ann","novel_count":3,"pages":301}`
			bob := `{"id":2,"name":"Bob","novel_count":1,"pages":50}`
			cy := `{"id":3,"name":"Cy","novel_count":0,"pages":0}`
			page := func(items ...string) string {
				return fmt.Sprintf(`{"count":%d,"next":null,"previous":null,"results":[`, len(items)) + join(items) + `]}`
			}
			for _, c := range []struct{ path, body string }{
				{"/writers/", page(ann, bob, cy)},
				{"/writers/?ordering=novel_count", page(cy, bob, ann)},
				{"/writers/?ordering=-pages", page(ann, bob, cy)},
				{"/writers/?novel_count__gte=1&ordering=novel_count", page(bob, ann)},
				{"/writers/?novel_count=0", page(cy)},
				{"/writers/?pages__range=1,100", page(bob)},
				{"/writers/?name__icontains=B&novel_count__gte=1", page(bob)},
				{"/writers/1/", ann},
				{"/writers/3/", cy},
			} {
				before := db.DBStats().Queries
				w := do(r, "GET", c.path, "")
				if w.Code != 200 || !jsonEqual(w.Body.Bytes(), []byte(c.body)) {
					t.Errorf("GET %s: %d %s, want %s", c.path, w.Code, w.Body, c.body)
				}
				if n := db.DBStats().Queries - before; name == "postgres" && n != 0 {
					t.Errorf("GET %s: bun ran %d queries; pgx should run them all", c.path, n)
				}
			}
			if w := do(r, "GET", "/writers/?novel_count__gte=x", ""); w.Code != 400 || w.Body.String() != `{"novel_count__gte":["Enter a number."]}` {
				t.Errorf("bad value: %d %s", w.Code, w.Body)
			}
			// Read-only: input is ignored; the update answers with the computed values.
			if w := do(r, "PATCH", "/writers/1/", `{"name":"Anne","novel_count":99}`); w.Code != 200 || !jsonEqual(w.Body.Bytes(), []byte(`{"id":1,"name":"Anne","novel_count":3,"pages":301}`)) {
				t.Errorf("PATCH: %d %s", w.Code, w.Body)
			}
			if w := do(r, "POST", "/writers/", `{"name":"Dee","novel_count":5}`); w.Code != 201 || !jsonEqual(w.Body.Bytes(), []byte(`{"id":4,"name":"Dee","novel_count":0,"pages":0}`)) {
				t.Errorf("POST: %d %s", w.Code, w.Body)
			}
		})
	}
}

func join(items []string) string {
	out := ""
	for i, s := range items {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// TestComputedAllocs logs the allocations of a page of writers with their
// two computed fields on PostgreSQL's pgx path.
func TestComputedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	db := dbtest.Postgres(t, (*CountedWriter)(nil), (*CountedNovel)(nil))
	writers := []CountedWriter{{Name: "Ann"}, {Name: "Bob"}, {Name: "Cy"}}
	_, err := db.NewInsert().Model(&writers).Exec(t.Context())
	dbtest.Must(t, err, "insert writers")
	h := &views.ListView[CountedWriter]{DB: db, Paginator: pagination.LimitOffset{}, Ordering: []string{"novel_count"}}
	// The baseline: the same list without the computed fields.
	plain := &views.ListView[CountedWriter]{DB: db, Paginator: pagination.LimitOffset{}, Serializer: &serializers.Serializer[CountedWriter]{Fields: []string{"id", "name"}}}
	for _, path := range []string{"/writers/?plain", "/writers/", "/writers/?ordering=-novel_count"} {
		h := http.Handler(h)
		if path == "/writers/?plain" {
			h = plain
		}
		r := httptest.NewRequest("GET", path, nil)
		serve(t, h, r)
		before := db.DBStats().Queries
		serve(t, h, r)
		if n := db.DBStats().Queries - before; n != 0 {
			t.Errorf("GET %s: bun ran %d queries", path, n)
		}
		t.Logf("GET %s: %.0f allocs/op", path, testing.AllocsPerRun(50, func() { serve(t, h, r) }))
	}
}
