package views_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// shout is the body of the notes' "shout" action.
type shout struct {
	Times int `json:"times" validate:"required,min=1,max=3"`
}

// A ModelViewSet on a DefaultRouter: one value per resource, the
// project's defaults given to the router, a detail action (DRF's
// @action(detail=True, methods=["post"])) that receives the note loaded,
// permission-checked and locked, with its body validated by its own
// serializer, and the router's API root, format suffixes and
// trailing-slash redirect.
func ExampleModelViewSet() {
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

	notes := &views.ModelViewSet[Note]{
		Generic: views.Generic[Note]{
			DB: db,
			BeforeCreate: func(r *http.Request, n *Note) error {
				n.Owner = authentication.PrincipalFrom(r.Context()).Username
				return nil
			},
		},
		Actions: []views.Action[Note]{{
			Name:    "shout",
			Detail:  true,
			Methods: []string{http.MethodPost},
			Run: views.RunBody(func(c *views.Call[Note], in *shout) error {
				c.Object.Text = strings.ToUpper(c.Object.Text) + strings.Repeat("!", in.Times)
				return c.Save("text")
			}),
		}},
	}
	router := &views.DefaultRouter{SimpleRouter: views.SimpleRouter{
		// DRF's REST_FRAMEWORK = {"DEFAULT_PERMISSION_CLASSES": [...]}.
		Defaults: views.Defaults{Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly}},
	}}
	router.Register("notes", notes, "note")

	r := chi.NewRouter()
	r.Use(views.AnyMethod)
	r.NotFound(views.NotFound(r))
	r.Use(authentication.Middleware(headerAuth))
	router.Install(r)

	send(r, "POST", "/notes/", "ann", `{"text": "hello"}`)
	// Anonymous: 403, as DRF answers when no authenticator has a
	// challenge to send (a JWT or Token authenticator makes it 401).
	send(r, "POST", "/notes/1/shout/", "", `{"times": 2}`)
	send(r, "POST", "/notes/1/shout/", "ann", `{"times": 9}`)
	send(r, "POST", "/notes/1/shout/", "ann", `{"times": 2}`)
	send(r, "GET", "/notes/1.json", "", "")
	send(r, "GET", "/", "", "")
	send(r, "GET", "/notes", "", "")
	// Output:
	// 201 {"id":1,"text":"hello","owner":"ann"}
	// 403 {"detail":"Authentication credentials were not provided."}
	// 400 {"times":["Ensure this value is less than or equal to 3."]}
	// 200 {"id":1,"text":"HELLO!!","owner":"ann"}
	// 200 {"id":1,"text":"HELLO!!","owner":"ann"}
	// 200 {"notes":"http://example.com/notes/"}
	// 301
}
