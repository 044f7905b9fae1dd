package views_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// Note is the model of the examples.
type Note struct {
	bun.BaseModel `bun:"table:notes,alias:note"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id" cosworth:"read_only"`
	Text          string `bun:"text,notnull" json:"text" validate:"required,max=280"`
	Owner         string `bun:"owner,notnull" json:"owner" cosworth:"read_only"`
}

// headerAuth is a toy authenticator: "Authorization: User <name>".
var headerAuth = authentication.AuthenticatorFunc(func(r *http.Request) (*authentication.Principal, error) {
	if name, ok := strings.CutPrefix(r.Header.Get("Authorization"), "User "); ok {
		return &authentication.Principal{Username: name}, nil
	}
	return nil, nil
})

func send(h http.Handler, method, path, user, body string) {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		r.Header.Set("Authorization", "User "+user)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
}

// A ListCreateView whose BeforeCreate sets the owner from the
// authenticated caller (DRF's perform_create with serializer.save(owner=...);
// the view inserts the note in one statement), and whose Queryset shows
// each caller only their own notes (the caller's name a models.Param, so
// the query has one SQL text for every caller).
func ExampleListCreateView() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "views-example")
	defer os.RemoveAll(dir)
	db, err := models.Open(ctx, filepath.Join(dir, "notes.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := models.CreateTables(ctx, db, (*Note)(nil)); err != nil {
		log.Fatal(err)
	}

	notes := &views.ListCreateView[Note]{
		DB:          db,
		Permissions: []permissions.Permission{permissions.IsAuthenticated},
		Queryset: func(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("?TableAlias.owner = ?", models.Param(authentication.PrincipalFrom(r.Context()).Username))
		},
		BeforeCreate: func(r *http.Request, n *Note) error {
			n.Owner = authentication.PrincipalFrom(r.Context()).Username
			return nil
		},
	}
	r := chi.NewRouter()
	r.Use(authentication.Middleware(headerAuth))
	r.Handle("/notes/", notes)

	send(r, "POST", "/notes/", "alice", `{"text":"buy milk","owner":"mallory"}`)
	send(r, "POST", "/notes/", "bob", `{"text":"call mum"}`)
	send(r, "POST", "/notes/", "bob", `{}`)
	send(r, "GET", "/notes/", "alice", "")
	send(r, "GET", "/notes/", "", "")
	// Output:
	// 201 {"id":1,"text":"buy milk","owner":"alice"}
	// 201 {"id":2,"text":"call mum","owner":"bob"}
	// 400 {"text":["This field is required."]}
	// 200 [{"id":1,"text":"buy milk","owner":"alice"}]
	// 403 {"detail":"Authentication credentials were not provided."}
}

// An APIView serves an endpoint that is not a view over a model, such as
// the caller's profile, with the same flow as the generic views.
func ExampleAPIView() {
	me := &views.APIView{
		Name:        "Me",
		Permissions: []permissions.Permission{permissions.IsAuthenticated},
		Get: func(w http.ResponseWriter, r *http.Request) error {
			p := authentication.PrincipalFrom(r.Context())
			return views.WriteJSON(w, http.StatusOK, map[string]any{"username": p.Username})
		},
	}
	r := chi.NewRouter()
	r.Use(authentication.Middleware(headerAuth))
	r.Handle("/me/", me)

	send(r, "GET", "/me/", "alice", "")
	send(r, "GET", "/me/", "", "")
	send(r, "DELETE", "/me/", "alice", "")
	// Output:
	// 200 {"username":"alice"}
	// 403 {"detail":"Authentication credentials were not provided."}
	// 405 {"detail":"Method \"DELETE\" not allowed."}
}
