package views_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

// renameRequest is the body of the rename action.
type renameRequest struct {
	Title string `json:"title" validate:"required,max=20"`
}

// viewSetStore mounts a books viewset on a DefaultRouter: PerAction gives
// the list a narrower serializer and create its own permission; a detail
// action renames a book, a list action counts them.
func viewSetStore(t *testing.T, db *bun.DB) (http.Handler, *views.DefaultRouter, *[]string) {
	t.Helper()
	authors := []Author{{Name: "Ursula K. Le Guin", Email: "ursula@example.com"}}
	dbtest.Must(t, db.NewInsert().Model(&authors).Scan(context.Background()), "seed authors")
	books := []Book{{Title: "Earthsea", ISBN: "9780547773742", AuthorID: 1, PriceCents: 500, Owner: "alice"},
		{Title: "The Dispossessed", ISBN: "9780061054884", AuthorID: 1, PriceCents: 700, Owner: "bob"}}
	dbtest.Must(t, db.NewInsert().Model(&books).Scan(context.Background()), "seed books")
	var commits []string
	vs := &views.ModelViewSet[Book]{
		Generic: views.Generic[Book]{
			DB:       db,
			OnCommit: func(_ *http.Request, c views.Change, b *Book) { commits = append(commits, c.String()+" "+b.Title) },
		},
		PerAction: func(action string, g *views.Generic[Book]) {
			switch action {
			case "list":
				g.Serializer = &serializers.Serializer[Book]{Fields: []string{"id", "title"}}
			case "create", "update", "partial_update", "destroy", "rename":
				g.Permissions = []permissions.Permission{permissions.IsAuthenticated}
			}
		},
		Actions: []views.Action[Book]{
			{Name: "rename", Detail: true, Methods: []string{"post", "PUT"}, Run: views.RunBody(func(c *views.Call[Book], in *renameRequest) error {
				c.Object.Title = in.Title
				return c.Save("title")
			})},
			{Name: "count_all", Run: views.Run(func(c *views.Call[Book]) error {
				n, err := c.DB.NewSelect().Model((*Book)(nil)).Count(c.Request.Context())
				if err != nil {
					return err
				}
				c.Respond(http.StatusOK, []byte(`{"count":`+strconv.FormatInt(int64(n), 10)+`}`))
				return nil
			})},
			{Name: "discard", Detail: true, Methods: []string{"DELETE"}, Permissions: []permissions.Permission{permissions.AllowAny},
				Run: views.Run(func(c *views.Call[Book]) error { return c.Delete() })},
		},
	}
	router := &views.DefaultRouter{SimpleRouter: views.SimpleRouter{Defaults: views.Defaults{Paginator: pagination.LimitOffset{DefaultLimit: 1}}}}
	router.Register("books", vs, "book")
	r := chi.NewRouter()
	r.Use(views.AnyMethod)
	r.NotFound(views.NotFound(r))
	r.Use(authentication.Middleware(testAuth{}))
	router.Install(r)
	return r, router, &commits
}

func TestViewSet(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			h, router, commits := viewSetStore(t, open(t))
			check := func(method, path, body string, status int, want string, hdr ...string) *httptest.ResponseRecorder {
				t.Helper()
				w := do(h, method, path, body, hdr...)
				if w.Code != status || want != "" && strings.TrimSpace(w.Body.String()) != want {
					t.Fatalf("%s %s: %d %s, want %d %s", method, path, w.Code, w.Body, status, want)
				}
				return w
			}
			alice := []string{"Authorization", "Test alice"}
			// The list: the defaults' paginator, list's own serializer.
			check("GET", "/books/", "", 200, `{"count":2,"next":"http://example.com/books/?limit=1\u0026offset=1","previous":null,"results":[{"id":1,"title":"Earthsea"}]}`)
			// Retrieve: the viewset's serializer.
			check("GET", "/books/2/", "", 200, `{"id":2,"title":"The Dispossessed","isbn":"9780061054884","author":1,"price_cents":700,"owner":"bob"}`)
			// Create takes its own permissions.
			check("POST", "/books/", `{"title":"Lathe","isbn":"9781416556961","author":1,"price_cents":1}`, 401, "")
			check("POST", "/books/", `{"title":"Lathe","isbn":"9781416556961","author":1,"price_cents":1}`, 201, "", alice...)
			// A detail action: locked, validated by its serializer, saved.
			check("POST", "/books/1/rename/", `{"title":"A Wizard of Earthsea"}`, 401, "")
			check("POST", "/books/1/rename/", `{"title":""}`, 400, `{"title":["This field may not be blank."]}`, alice...)
			check("POST", "/books/1/rename/", `{"title":"A Wizard of Earthsea, the long title"}`, 400, `{"title":["Ensure this field has no more than 20 characters."]}`, alice...)
			check("POST", "/books/9/rename/", `{"title":"x"}`, 404, `{"detail":"Not found."}`, alice...)
			check("PUT", "/books/1/rename/", `{"title":"Wizard"}`, 200, `{"id":1,"title":"Wizard","isbn":"9780547773742","author":1,"price_cents":500,"owner":"alice"}`, alice...)
			w := check("PATCH", "/books/1/rename/", `{}`, 405, `{"detail":"Method \"PATCH\" not allowed."}`, alice...)
			if got := w.Header().Get("Allow"); got != "POST, PUT, OPTIONS" {
				t.Fatalf("rename Allow %q", got)
			}
			check("OPTIONS", "/books/1/rename/", "", 401, "") // permissions come first, as in DRF
			rename := `{"title":{"type":"string","required":true,"read_only":false,"label":"Title","max_length":20}}`
			check("OPTIONS", "/books/1/rename/", "", 200, `{"name":"Rename","description":"","renders":["application/json"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"],`+
				`"actions":{"POST":`+rename+`,"PUT":`+rename+`}}`, alice...)
			// A list action, GET (and HEAD).
			check("GET", "/books/count_all/", "", 200, `{"count":3}`)
			check("HEAD", "/books/count_all/", "", 200, "")
			// Delete in an action, and the after-commit point.
			check("DELETE", "/books/3/discard/", "", 204, "")
			check("GET", "/books/3/", "", 404, "")
			if got := strings.Join(*commits, ", "); got != "created Lathe, updated Wizard, deleted Lathe" {
				t.Fatalf("OnCommit saw %q", got)
			}
			// Route names and the API root.
			if p := router.Pattern("book-rename"); p != "/books/{id}/rename/" {
				t.Fatalf("book-rename: %q", p)
			}
			if p := router.Pattern("book-count-all"); p != "/books/count_all/" {
				t.Fatalf("book-count-all: %q", p)
			}
			check("GET", "/", "", 200, `{"books":"http://example.com/books/"}`)
			check("GET", "/books/2.json", "", 200, "")
			check("GET", "/books/2.csv", "", 404, `{"detail":"Not found."}`)
		})
	}
}

// TestGenericViewSetMixins: only the chosen actions are routed and allowed.
func TestGenericViewSetMixins(t *testing.T) {
	db := dbtest.SQLite(t, allModels...)
	vs := &views.GenericViewSet[Book]{Generic: views.Generic[Book]{DB: db}, Mixins: views.ListMixin | views.DestroyMixin}
	router := &views.SimpleRouter{}
	router.Register("books", vs, "")
	r := chi.NewRouter()
	router.Install(r)
	if w := do(r, "POST", "/books/", `{}`); w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Fatalf("POST list: %d %q", w.Code, w.Header().Get("Allow"))
	}
	if w := do(r, "GET", "/books/1/", ""); w.Code != 405 || w.Header().Get("Allow") != "DELETE, OPTIONS" {
		t.Fatalf("GET detail: %d %q", w.Code, w.Header().Get("Allow"))
	}
	if w := do(r, "GET", "/", ""); w.Code != 404 {
		t.Fatalf("a SimpleRouter has no API root: %d", w.Code)
	}
	if p := router.Pattern("books-list"); p != "/books/" {
		t.Fatalf("books-list: %q", p)
	}
}

// TestApplyDefaults: a view's own settings win; Unpaginated turns the
// default paginator off.
func TestApplyDefaults(t *testing.T) {
	d := views.Defaults{Permissions: []permissions.Permission{permissions.IsAuthenticated}, Paginator: pagination.LimitOffset{}, MaxResults: 7}
	g := &views.Generic[Book]{Paginator: views.Unpaginated, Permissions: []permissions.Permission{permissions.AllowAny}}
	views.ApplyDefaults(g, d)
	if g.Paginator != nil || len(g.Permissions) != 1 || g.Permissions[0] != permissions.AllowAny || g.MaxResults != 7 {
		t.Fatalf("ApplyDefaults: %+v", g)
	}
	g = &views.Generic[Book]{}
	views.ApplyDefaults(g, d)
	if g.Paginator == nil || len(g.Permissions) != 1 || g.Permissions[0] != permissions.IsAuthenticated {
		t.Fatalf("ApplyDefaults on zero: %+v", g)
	}
}

// TestViewSetMisconfigured: programmer errors panic at Install.
func TestViewSetMisconfigured(t *testing.T) {
	for name, a := range map[string]views.Action[Book]{
		"no run":      {Name: "x"},
		"bad name":    {Name: "X-y", Run: views.Run(func(*views.Call[Book]) error { return nil })},
		"bad method":  {Name: "x", Methods: []string{"FOO"}, Run: views.Run(func(*views.Call[Book]) error { return nil })},
		"bad urlpath": {Name: "x", URLPath: "../x", Run: views.Run(func(*views.Call[Book]) error { return nil })},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if v := recover(); v == nil || !strings.HasPrefix(v.(string), "cosworth/views: ") {
					t.Fatalf("panic %v", v)
				}
			}()
			router := &views.SimpleRouter{}
			router.Register("books", &views.ModelViewSet[Book]{Actions: []views.Action[Book]{a}}, "book")
			router.Install(chi.NewRouter())
		})
	}
}

// benchViewSet mounts the generic list and retrieve views of benchStore
// and the same configuration as a ReadOnlyModelViewSet on a SimpleRouter.
func benchViewSet(tb testing.TB) (generic, viewset http.Handler) {
	db := dbtest.SQLite(tb, allModels...)
	generic = benchStore(tb, db)
	vs := &views.ReadOnlyModelViewSet[Book]{Generic: views.Generic[Book]{DB: db, Paginator: pagination.LimitOffset{}, Ordering: []string{"title", "price_cents"}, Search: []string{"title"}}}
	router := &views.SimpleRouter{}
	router.Register("books", vs, "book")
	r := chi.NewRouter()
	router.Install(r)
	return generic, r
}

// TestViewSetAllocs: a viewset's route costs no allocation over the
// generic view with the same configuration. Without the database (OPTIONS,
// a 405) the counts are exact and must be equal; with it (a page, an
// object) a GC emptying the pools moves a run by an allocation or two, so
// the least of a few measures may differ by at most 2 (BenchmarkViewSet
// reports them).
func TestViewSetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	generic, viewset := benchViewSet(t)
	for _, tc := range []struct {
		method, path string
		slack        float64
	}{
		{"OPTIONS", "/books/", 0},
		{"OPTIONS", "/books/7/", 0},
		{"DELETE", "/books/7/", 0},
		{"GET", "/books/?limit=10&offset=10", 2},
		{"GET", "/books/7/", 2},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		run := func(h http.Handler) func() {
			return func() { h.ServeHTTP(httptest.NewRecorder(), r) }
		}
		run(generic)()
		run(viewset)()
		g, v := 1e9, 1e9
		for range 5 {
			g = min(g, testing.AllocsPerRun(50, run(generic)))
			v = min(v, testing.AllocsPerRun(50, run(viewset)))
		}
		t.Logf("%s %s: generic view %.0f allocs/op, viewset %.0f allocs/op", tc.method, tc.path, g, v)
		if v > g+tc.slack {
			t.Errorf("%s %s: the viewset allocates %.0f times per request, the generic view %.0f", tc.method, tc.path, v, g)
		}
	}
}

// BenchmarkViewSet compares a list page and a retrieve served by the
// generic views and by a viewset with the same configuration (SQLite).
func BenchmarkViewSet(b *testing.B) {
	generic, viewset := benchViewSet(b)
	for _, bc := range []struct{ name, path string }{{"list", "/books/?limit=10&offset=10"}, {"retrieve", "/books/7/"}} {
		for _, h := range []struct {
			name string
			h    http.Handler
		}{{"generic", generic}, {"viewset", viewset}} {
			b.Run(bc.name+"/"+h.name, func(b *testing.B) {
				r := httptest.NewRequest(http.MethodGet, bc.path, nil)
				b.ReportAllocs()
				for b.Loop() {
					serve(b, h.h, r)
				}
			})
		}
	}
}

// TestRouterHelpersOnSingleViews: a plain chi user mounting generic views
// by hand gets the routers' behaviour from AnyMethod, NotFound and
// FormatSuffix; a list action with a write method runs in a transaction.
func TestRouterHelpersOnSingleViews(t *testing.T) {
	db := dbtest.SQLite(t, allModels...)
	list := &views.ListCreateView[Book]{DB: db}
	r := chi.NewRouter()
	r.Use(views.AnyMethod)
	r.NotFound(views.NotFound(r))
	r.Handle("/books/", list)
	r.Handle("/books.{format}", views.FormatSuffix(list))
	w := do(r, "FOO", "/books/", "")
	if w.Code != 405 || strings.TrimSpace(w.Body.String()) != `{"detail":"Method \"FOO\" not allowed."}` || w.Header().Get("Allow") != "GET, POST, HEAD, OPTIONS" {
		t.Fatalf("FOO: %d %s %q", w.Code, w.Body, w.Header().Get("Allow"))
	}
	if w := do(r, "GET", "/books?x=1", ""); w.Code != 301 || w.Header().Get("Location") != "/books/?x=1" {
		t.Fatalf("redirect: %d %q", w.Code, w.Header().Get("Location"))
	}
	if w := do(r, "GET", "/books.json", ""); w.Code != 200 || strings.TrimSpace(w.Body.String()) != "[]" {
		t.Fatalf("books.json: %d %s", w.Code, w.Body)
	}
	if w := do(r, "GET", "/books.txt", ""); w.Code != 404 {
		t.Fatalf("books.txt: %d %s", w.Code, w.Body)
	}
	if w := do(r, "FOO", "/nowhere/", ""); w.Code != 404 || strings.TrimSpace(w.Body.String()) != `{"detail":"Not found."}` {
		t.Fatalf("FOO /nowhere/: %d %s", w.Code, w.Body)
	}

	// Actions only, one of them a list action that writes.
	vs := &views.GenericViewSet[Book]{
		Generic: views.Generic[Book]{DB: db},
		Actions: []views.Action[Book]{{Name: "seed", Methods: []string{"POST"}, Run: views.Run(func(c *views.Call[Book]) error {
			if _, err := c.DB.NewInsert().Model(&Author{Name: "A", Email: "a@example.com"}).Exec(c.Request.Context()); err != nil {
				return err
			}
			if c.Request.URL.Query().Get("fail") != "" {
				return errors.New("rolled back")
			}
			return nil
		})}},
	}
	router := &views.SimpleRouter{}
	router.Register("books", vs, "book")
	r2 := chi.NewRouter()
	router.Install(r2)
	if w := do(r2, "GET", "/books/", ""); w.Code != 404 {
		t.Fatalf("no mixins, no list route: %d", w.Code)
	}
	if w := do(r2, "POST", "/books/seed/?fail=1", ""); w.Code != 500 {
		t.Fatalf("failing seed: %d %s", w.Code, w.Body)
	}
	if w := do(r2, "POST", "/books/seed/", ""); w.Code != 204 {
		t.Fatalf("seed: %d %s", w.Code, w.Body)
	}
	n, err := db.NewSelect().Model((*Author)(nil)).Count(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("authors after a failed and a committed seed: %d %v, want 1", n, err)
	}
}

// TestViewSetSetupPanicRepeats: a PerAction that panics fails every
// request with its message, not a nil pointer.
func TestViewSetSetupPanicRepeats(t *testing.T) {
	vs := &views.ModelViewSet[Book]{
		Generic:   views.Generic[Book]{DB: dbtest.SQLite(t, allModels...)},
		PerAction: func(string, *views.Generic[Book]) { panic("cosworth/views: test: bad PerAction") },
	}
	router := &views.SimpleRouter{}
	router.Register("books", vs, "book")
	r := chi.NewRouter()
	router.Install(r)
	for range 2 {
		func() {
			defer func() {
				if v := recover(); v != "cosworth/views: test: bad PerAction" {
					t.Fatalf("panic %v", v)
				}
			}()
			do(r, "GET", "/books/", "")
		}()
	}
}
