package views_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

// Author and Book are the bookstore's models, reduced to what the views
// need.
type Author struct {
	bun.BaseModel `bun:"table:authors,alias:author"`
	ID            int64  `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Name          string `bun:",notnull" json:"name" validate:"required,max=100"`
	Email         string `bun:",notnull,unique" json:"email" validate:"required,email"`
}

type Book struct {
	bun.BaseModel `bun:"table:books,alias:book"`
	ID            int64   `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Title         string  `bun:",notnull" json:"title" validate:"required,max=200"`
	ISBN          string  `bun:"isbn,notnull,unique" json:"isbn" validate:"required,len=13,numeric"`
	AuthorID      int64   `bun:"author_id,notnull" json:"author" validate:"required"`
	Author        *Author `bun:"rel:belongs-to,join:author_id=id,on_delete:CASCADE" json:"-"`
	PriceCents    int64   `bun:",notnull" json:"price_cents" validate:"gte=0"`
	Owner         string  `bun:",notnull" json:"owner" cosworth:"read_only"`
}

var allModels = []any{(*Author)(nil), (*Book)(nil)}

// testAuth authenticates "Authorization: Test <username>"; "Test bad" is
// rejected and "Test down" is a backend outage. Its challenge makes
// unauthenticated denials 401s.
type testAuth struct{}

func (testAuth) Authenticate(r *http.Request) (*authentication.Principal, error) {
	user, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Test ")
	switch {
	case !ok:
		return nil, nil
	case user == "bad":
		return nil, &authentication.FailedError{Detail: "Invalid token."}
	case user == "down":
		return nil, fmt.Errorf("%w: token store timed out", authentication.ErrUnavailable)
	}
	return &authentication.Principal{Username: user, IsStaff: user == "admin"}, nil
}

func (testAuth) Challenge() string { return "Test" }

func safe(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
}

// authOrRead is DRF's IsAuthenticatedOrReadOnly.
type authOrRead struct{}

func (authOrRead) HasPermission(r *http.Request) bool {
	return safe(r) || authentication.PrincipalFrom(r.Context()) != nil
}
func (authOrRead) HasObjectPermission(*http.Request, any) bool { return true }

// ownerOrRead lets only a book's owner (or staff) change it.
type ownerOrRead struct{}

func (ownerOrRead) HasPermission(*http.Request) bool { return true }
func (ownerOrRead) HasObjectPermission(r *http.Request, obj any) bool {
	if safe(r) {
		return true
	}
	p := authentication.PrincipalFrom(r.Context())
	return p != nil && (p.IsStaff || obj.(*Book).Owner == p.Username)
}

// throttleFunc adapts a function to throttling.Throttle.
type throttleFunc func(r *http.Request) (time.Duration, error)

func (f throttleFunc) Allow(r *http.Request) (time.Duration, error) { return f(r) }

func setOwner(r *http.Request, tx bun.Tx, b *Book) error {
	b.Owner = authentication.PrincipalFrom(r.Context()).Username
	_, err := tx.NewInsert().Model(b).Returning("*").Exec(r.Context())
	return err
}

var bookSerializer = &serializers.Serializer[Book]{
	Validate: func(_ context.Context, b *Book, _ serializers.Mode) error {
		if b.Title == b.ISBN {
			return errors.New("The title must differ from the ISBN.")
		}
		return nil
	},
}

// bookstore mounts the book views the way examples/bookstore does.
func bookstore(db *bun.DB) http.Handler {
	r := chi.NewRouter()
	r.Use(authentication.Middleware(testAuth{}))
	r.Handle("/books/", &views.ListCreateView[Book]{
		DB:            db,
		Serializer:    bookSerializer,
		Permissions:   []permissions.Permission{authOrRead{}},
		Paginator:     pagination.LimitOffset{},
		PerformCreate: setOwner,
	})
	r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{
		DB:          db,
		Serializer:  bookSerializer,
		Permissions: []permissions.Permission{authOrRead{}, ownerOrRead{}},
	})
	r.Handle("/authors/", &views.ListCreateView[Author]{DB: db})
	return r
}

// do sends one request through h. hdr holds header name/value pairs; a
// body is sent as application/json unless hdr sets a Content-Type.
func do(h http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func as(user string) []string { return []string{"Authorization", "Test " + user} }

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func seedAuthors(t *testing.T, db *bun.DB) {
	t.Helper()
	authors := []Author{{Name: "Ursula K. Le Guin", Email: "ursula@example.com"}, {Name: "Iain M. Banks", Email: "iain@example.com"}}
	dbtest.Must(t, db.NewInsert().Model(&authors).Scan(context.Background()), "seed authors")
}

const dune = `{"title":"Dune","isbn":"9780441013593","author":1,"price_cents":999}`

// step is one request of a scripted conversation with the bookstore and
// what must come back. want is compared as JSON unless wantPrefix is set;
// wantKeys lists keys the JSON object body must have (for messages
// another package words).
type step struct {
	name       string
	method     string
	path       string
	body       string
	hdr        []string
	status     int
	want       string
	wantKeys   []string
	wantHeader map[string]string
	wantPrefix string
	noBody     bool
}

func (s step) run(t *testing.T, h http.Handler) {
	t.Helper()
	w := do(h, s.method, s.path, s.body, s.hdr...)
	if w.Code != s.status {
		t.Fatalf("%s: %s %s: status %d, want %d; body %s", s.name, s.method, s.path, w.Code, s.status, w.Body)
	}
	if s.want != "" && !jsonEqual(w.Body.Bytes(), []byte(s.want)) {
		t.Fatalf("%s: %s %s: body\n%s\nwant\n%s", s.name, s.method, s.path, w.Body, s.want)
	}
	if s.wantPrefix != "" && !strings.HasPrefix(w.Body.String(), s.wantPrefix) {
		t.Fatalf("%s: %s %s: body %s, want a prefix %s", s.name, s.method, s.path, w.Body, s.wantPrefix)
	}
	if len(s.wantKeys) > 0 {
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s: %s %s: body %s is not a JSON object: %v", s.name, s.method, s.path, w.Body, err)
		}
		for _, k := range s.wantKeys {
			if _, ok := m[k]; !ok {
				t.Fatalf("%s: %s %s: body %s has no key %q", s.name, s.method, s.path, w.Body, k)
			}
		}
		if len(m) != len(s.wantKeys) {
			t.Fatalf("%s: %s %s: body %s has keys other than %v", s.name, s.method, s.path, w.Body, s.wantKeys)
		}
	}
	for k, v := range s.wantHeader {
		if got := w.Header().Get(k); got != v {
			t.Fatalf("%s: %s %s: header %s = %q, want %q", s.name, s.method, s.path, k, got, v)
		}
	}
	if s.noBody && w.Body.Len() != 0 {
		t.Fatalf("%s: %s %s: body %q, want none", s.name, s.method, s.path, w.Body)
	}
	if !s.noBody && w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%s: %s %s: Content-Type %q", s.name, s.method, s.path, w.Header().Get("Content-Type"))
	}
}

// TestBookstore runs a scripted conversation through a ListCreateView and a
// RetrieveUpdateDestroyView on each database: every success path and every
// error of the bookstore contract's table that a view produces.
func TestBookstore(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedAuthors(t, db)
			h := bookstore(db)
			book1 := `{"id":1,"title":"Dune","isbn":"9780441013593","author":1,"price_cents":999,"owner":"alice"}`
			steps := []step{
				{name: "list empty", method: "GET", path: "/books/", status: 200,
					want:       `{"count":0,"next":null,"previous":null,"results":[]}`,
					wantHeader: map[string]string{"Allow": "GET, POST, HEAD, OPTIONS"}},
				{name: "create anonymous", method: "POST", path: "/books/", body: dune, status: 401,
					want:       `{"detail":"Authentication credentials were not provided."}`,
					wantHeader: map[string]string{"WWW-Authenticate": "Test"}},
				{name: "bad credentials", method: "GET", path: "/books/", hdr: as("bad"), status: 401,
					want: `{"detail":"Invalid token."}`, wantHeader: map[string]string{"WWW-Authenticate": "Test"}},
				{name: "auth backend down", method: "GET", path: "/books/", hdr: as("down"), status: 503,
					want: `{"detail":"Service temporarily unavailable, try again later."}`},
				{name: "create", method: "POST", path: "/books/", body: dune, hdr: as("alice"), status: 201, want: book1},
				{name: "read-only fields ignored", method: "POST", path: "/books/", hdr: as("alice"), status: 201,
					body: `{"id":99,"owner":"mallory","title":"Excession","isbn":"9780553575378","author":2,"price_cents":1299,"unknown":true}`,
					want: `{"id":2,"title":"Excession","isbn":"9780553575378","author":2,"price_cents":1299,"owner":"alice"}`},
				{name: "duplicate isbn", method: "POST", path: "/books/", body: dune, hdr: as("bob"), status: 400, wantKeys: []string{"isbn"}},
				{name: "missing author", method: "POST", path: "/books/", hdr: as("bob"), status: 400, wantKeys: []string{"author"},
					body: `{"title":"Nobody's","isbn":"9780000000001","author":999,"price_cents":1}`},
				{name: "missing required field", method: "POST", path: "/books/", hdr: as("bob"), status: 400,
					body: `{"isbn":"9780000000002","author":1}`, want: `{"title":["This field is required."]}`},
				{name: "non-field error", method: "POST", path: "/books/", hdr: as("bob"), status: 400,
					body: `{"title":"9780000000003","isbn":"9780000000003","author":1}`,
					want: `{"non_field_errors":["The title must differ from the ISBN."]}`},
				{name: "malformed JSON", method: "POST", path: "/books/", hdr: as("bob"), body: `{"title":`, status: 400,
					wantKeys: []string{"detail"}, wantPrefix: `{"detail":"JSON parse error - `},
				{name: "malformed JSON in PATCH", method: "PATCH", path: "/books/1/", hdr: as("alice"), body: `{"title":"x",}`, status: 400,
					wantKeys: []string{"detail"}, wantPrefix: `{"detail":"JSON parse error - `},
				{name: "not JSON", method: "POST", path: "/books/", body: "title=Dune", hdr: append(as("bob"), "Content-Type", "text/plain"),
					status: 415, want: `{"detail":"Unsupported media type \"text/plain\" in request."}`},
				{name: "too large", method: "POST", path: "/books/", hdr: as("bob"), status: 413,
					body: `{"title":"` + strings.Repeat("x", 1<<20) + `"}`, want: `{"detail":"Request body is too large."}`},
				{name: "list", method: "GET", path: "/books/?limit=1", status: 200,
					want: `{"count":2,"next":"http://example.com/books/?limit=1&offset=1","previous":null,"results":[` + book1 + `]}`},
				{name: "method not allowed on list", method: "PATCH", path: "/books/", hdr: as("alice"), status: 405,
					want:       `{"detail":"Method \"PATCH\" not allowed."}`,
					wantHeader: map[string]string{"Allow": "GET, POST, HEAD, OPTIONS"}},
				{name: "options", method: "OPTIONS", path: "/books/", status: 200,
					want: `{"name":"Book List","description":"","renders":["application/json"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"]}`},
				{name: "retrieve", method: "GET", path: "/books/1/", status: 200, want: book1,
					wantHeader: map[string]string{"Allow": "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"}},
				{name: "head", method: "HEAD", path: "/books/1/", status: 200, noBody: true,
					wantHeader: map[string]string{"Content-Length": fmt.Sprint(len(compact(book1))), "Content-Type": "application/json"}},
				{name: "retrieve missing", method: "GET", path: "/books/999/", status: 404, want: `{"detail":"Not found."}`},
				{name: "retrieve malformed id", method: "GET", path: "/books/abc/", status: 404, want: `{"detail":"Not found."}`},
				{name: "retrieve out-of-range id", method: "GET", path: "/books/99999999999999999999/", status: 404, want: `{"detail":"Not found."}`},
				// Not aliases of id 1: the URL must spell the key as it is.
				{name: "retrieve +1", method: "GET", path: "/books/+1/", status: 404, want: `{"detail":"Not found."}`},
				{name: "retrieve 01", method: "GET", path: "/books/01/", status: 404, want: `{"detail":"Not found."}`},
				{name: "retrieve space 1", method: "GET", path: "/books/%201/", status: 404, want: `{"detail":"Not found."}`},
				{name: "retrieve 1.0", method: "GET", path: "/books/1.0/", status: 404, want: `{"detail":"Not found."}`},
				{name: "retrieve -0", method: "GET", path: "/books/-0/", status: 404, want: `{"detail":"Not found."}`},
				{name: "delete 01", method: "DELETE", path: "/books/01/", hdr: as("alice"), status: 404, want: `{"detail":"Not found."}`},
				{name: "update by another user", method: "PUT", path: "/books/1/", body: dune, hdr: as("bob"), status: 403,
					want: `{"detail":"You do not have permission to perform this action."}`},
				{name: "update missing", method: "PUT", path: "/books/999/", body: dune, hdr: as("alice"), status: 404, want: `{"detail":"Not found."}`},
				// A null body is "No data provided"; any other non-object names its type.
				{name: "create null", method: "POST", path: "/books/", body: `null`, hdr: as("alice"), status: 400, want: `{"non_field_errors":["No data provided"]}`},
				{name: "create list", method: "POST", path: "/books/", body: `[]`, hdr: as("alice"), status: 400,
					want: `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
				{name: "create scalar", method: "POST", path: "/books/", body: `"x"`, hdr: as("alice"), status: 400,
					want: `{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}`},
				{name: "put null", method: "PUT", path: "/books/1/", body: ` null `, hdr: as("alice"), status: 400, want: `{"non_field_errors":["No data provided"]}`},
				{name: "patch null", method: "PATCH", path: "/books/1/", body: `null`, hdr: as("alice"), status: 400, want: `{"non_field_errors":["No data provided"]}`},
				{name: "patch list", method: "PATCH", path: "/books/1/", body: `[1]`, hdr: as("alice"), status: 400,
					want: `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
				{name: "put missing required field", method: "PUT", path: "/books/1/", hdr: as("alice"), status: 400,
					body: `{"isbn":"9780441013593","author":1,"price_cents":5}`, want: `{"title":["This field is required."]}`},
				{name: "put", method: "PUT", path: "/books/1/", hdr: as("alice"), status: 200,
					body: `{"title":"Dune Messiah","isbn":"9780441172696","author":1,"price_cents":899,"owner":"bob"}`,
					want: `{"id":1,"title":"Dune Messiah","isbn":"9780441172696","author":1,"price_cents":899,"owner":"alice"}`},
				{name: "patch", method: "PATCH", path: "/books/1/", hdr: as("alice"), status: 200, body: `{"price_cents":5}`,
					want: `{"id":1,"title":"Dune Messiah","isbn":"9780441172696","author":1,"price_cents":5,"owner":"alice"}`},
				{name: "patch by staff", method: "PATCH", path: "/books/1/", hdr: as("admin"), status: 200, body: `{"title":"Dune"}`,
					want: `{"id":1,"title":"Dune","isbn":"9780441172696","author":1,"price_cents":5,"owner":"alice"}`},
				{name: "patch empty body", method: "PATCH", path: "/books/1/", hdr: as("alice"), status: 200,
					want: `{"id":1,"title":"Dune","isbn":"9780441172696","author":1,"price_cents":5,"owner":"alice"}`},
				{name: "patch invalid value", method: "PATCH", path: "/books/1/", hdr: as("alice"), status: 400, body: `{"price_cents":-1}`,
					wantKeys: []string{"price_cents"}},
				{name: "patch to a duplicate isbn", method: "PATCH", path: "/books/1/", hdr: as("alice"), status: 400, body: `{"isbn":"9780553575378"}`,
					wantKeys: []string{"isbn"}},
				{name: "patch not JSON", method: "PATCH", path: "/books/1/", body: "x", hdr: append(as("alice"), "Content-Type", "text/plain"),
					status: 415, want: `{"detail":"Unsupported media type \"text/plain\" in request."}`},
				{name: "patch not JSON, missing object first", method: "PATCH", path: "/books/998/", body: "x",
					hdr: append(as("alice"), "Content-Type", "text/plain"), status: 404, want: `{"detail":"Not found."}`},
				{name: "patch unchanged after failures", method: "GET", path: "/books/1/", status: 200,
					want: `{"id":1,"title":"Dune","isbn":"9780441172696","author":1,"price_cents":5,"owner":"alice"}`},
				{name: "post on detail", method: "POST", path: "/books/1/", body: dune, hdr: as("alice"), status: 405,
					want:       `{"detail":"Method \"POST\" not allowed."}`,
					wantHeader: map[string]string{"Allow": "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"}},
				{name: "options detail", method: "OPTIONS", path: "/books/1/", status: 200,
					want: `{"name":"Book Instance","description":"","renders":["application/json"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"]}`},
				{name: "delete by another user", method: "DELETE", path: "/books/1/", hdr: as("bob"), status: 403,
					want: `{"detail":"You do not have permission to perform this action."}`},
				{name: "delete anonymous", method: "DELETE", path: "/books/1/", status: 401,
					want: `{"detail":"Authentication credentials were not provided."}`},
				{name: "delete", method: "DELETE", path: "/books/1/", hdr: as("alice"), status: 204, noBody: true},
				{name: "gone", method: "GET", path: "/books/1/", status: 404, want: `{"detail":"Not found."}`},
				{name: "delete again", method: "DELETE", path: "/books/1/", hdr: as("alice"), status: 404, want: `{"detail":"Not found."}`},
				{name: "list after delete", method: "GET", path: "/books/", status: 200,
					want: `{"count":1,"next":null,"previous":null,"results":[{"id":2,"title":"Excession","isbn":"9780553575378","author":2,"price_cents":1299,"owner":"alice"}]}`},
			}
			for _, s := range steps {
				s.run(t, h)
			}
		})
	}
}

func compact(s string) string {
	var b bytes.Buffer
	_ = json.Compact(&b, []byte(s))
	return b.String()
}
