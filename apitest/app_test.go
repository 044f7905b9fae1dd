package apitest_test

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// Note is the model of the tests and examples.
type Note struct {
	bun.BaseModel `bun:"table:notes,alias:note"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id" cosworth:"read_only"`
	Text          string `bun:"text,notnull" json:"text" validate:"required,max=280"`
	Owner         string `bun:"owner,notnull" json:"owner" cosworth:"read_only"`
}

// secret signs the tests' JWTs.
var secret = []byte("apitest secret of at least 32 bytes")

// notesAPI is a small service: JWT endpoints, /api/me/, and notes that
// anyone reads and authenticated users write, owned by their author.
func notesAPI(db *bun.DB) http.Handler {
	j := &authentication.JWT{Key: secret, DB: db}
	r := chi.NewRouter()
	r.Use(authentication.Middleware(j))
	r.Handle("/api/token/", j.ObtainPairHandler(db))
	r.Handle("/api/me/", &views.APIView{
		Name:        "Me",
		Permissions: []permissions.Permission{permissions.IsAuthenticated},
		Get: func(w http.ResponseWriter, r *http.Request) error {
			p := authentication.PrincipalFrom(r.Context())
			return views.WriteJSON(w, http.StatusOK, map[string]any{"id": p.ID, "username": p.Username})
		},
	})
	r.Handle("/api/notes/", &views.ListCreateView[Note]{
		DB:          db,
		Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly},
		BeforeCreate: func(r *http.Request, n *Note) error {
			n.Owner = authentication.PrincipalFrom(r.Context()).Username
			return nil
		},
	})
	r.Handle("/api/notes/{id}/", &views.RetrieveUpdateDestroyView[Note]{
		DB:          db,
		Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly},
	})
	return r
}

// notesModels are the tables notesAPI needs.
var notesModels = []any{(*models.User)(nil), (*Note)(nil)}
