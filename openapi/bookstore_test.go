package openapi_test

import (
	"context"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

// The models and routes mirror examples/bookstore (bookstore-contract.md).

type Author struct {
	bun.BaseModel `bun:"table:authors,alias:author"`
	models.Base
	Name  string `bun:"name,notnull" json:"name" validate:"required,max=100"`
	Email string `bun:"email,notnull,unique" json:"email" validate:"required,email"`
}

type Book struct {
	bun.BaseModel `bun:"table:books,alias:book"`
	models.Base
	Title       string       `bun:"title,notnull" json:"title" validate:"required,max=200"`
	ISBN        string       `bun:"isbn,notnull,unique" json:"isbn" validate:"required,len=13,numeric"`
	AuthorID    int64        `bun:"author_id,notnull" json:"author" validate:"required"`
	PriceCents  int64        `bun:"price_cents,notnull" json:"price_cents" validate:"required,min=0"`
	PublishedOn *models.Date `bun:"published_on,type:date" json:"published_on"`
	OwnerID     int64        `bun:"owner_id,notnull" json:"-"`
	Owner       *models.User `bun:"rel:belongs-to,join:owner_id=id,on_delete:cascade" json:"owner" cosworth:"read_only"`
	Author      *Author      `bun:"rel:belongs-to,join:author_id=id,on_delete:cascade" json:"-"`
}

func tables() []any {
	return []any{(*models.User)(nil), (*models.Token)(nil), (*Author)(nil), (*Book)(nil)}
}

type userOut struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	IsStaff  bool   `json:"is_staff"`
}

func bookSerializer(db *bun.DB) *serializers.Serializer[Book] {
	return &serializers.Serializer[Book]{
		Exclude: []string{"updated_at"},
		Represent: map[string]func(dst []byte, b *Book) []byte{
			"owner": func(dst []byte, b *Book) []byte {
				if b.Owner == nil {
					return append(dst, "null"...)
				}
				return strconv.AppendQuote(dst, b.Owner.Username)
			},
		},
		Validate: func(ctx context.Context, b *Book, _ serializers.Mode) error {
			ok, err := db.NewSelect().Model((*Author)(nil)).Where("id = ?", b.AuthorID).Exists(ctx)
			if err != nil {
				return err
			}
			if !ok {
				ve := &models.ValidationError{}
				ve.Add("author", `Invalid pk "`+strconv.FormatInt(b.AuthorID, 10)+`" - object does not exist.`)
				return ve
			}
			return nil
		},
	}
}

func withOwner(_ *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
	return q.Relation("Owner", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Column("id", "username") })
}

func createBook(r *http.Request, tx bun.Tx, b *Book) error {
	p := authentication.PrincipalFrom(r.Context())
	b.OwnerID = p.ID
	b.Owner = &models.User{Username: p.Username}
	_, err := tx.NewInsert().Model(b).Returning("*").Exec(r.Context())
	return err
}

// service is the bookstore-like router and what its document needs.
type service struct {
	router chi.Router
	jwt    *authentication.JWT
	auth   []authentication.Authenticator
}

func newService(db *bun.DB) *service {
	jwtAuth := &authentication.JWT{Key: []byte("openapi-test-secret-0123456789abcdef"), DB: db}
	tokens := &authentication.Token{DB: db}
	auths := []authentication.Authenticator{jwtAuth, tokens}
	authorSer := &serializers.Serializer[Author]{Exclude: []string{"updated_at"}}
	ownerOrStaff := permissions.IsOwnerOrStaffOrReadOnly(func(b *Book) int64 { return b.OwnerID })

	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Route("/api", func(r chi.Router) {
		r.Use(authentication.Middleware(auths...))
		r.Handle("/me/", &views.APIView{
			Permissions: []permissions.Permission{permissions.IsAuthenticated},
			Get: func(w http.ResponseWriter, r *http.Request) error {
				p := authentication.PrincipalFrom(r.Context())
				return views.WriteJSON(w, http.StatusOK, userOut{ID: p.ID, Username: p.Username, IsStaff: p.IsStaff})
			},
		})
		r.Handle("/token/", jwtAuth.ObtainPairHandler(db))
		r.Handle("/token/refresh/", jwtAuth.RefreshHandler())
		r.Handle("/token/verify/", jwtAuth.VerifyHandler())
		r.Handle("/token-auth/", tokens.ObtainHandler())

		r.Handle("/authors/", &views.ListCreateView[Author]{
			DB:          db,
			Serializer:  authorSer,
			Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly},
			Paginator:   pagination.PageNumber{PageSize: 10, MaxPageSize: 100},
			Search:      []string{"name"},
			Ordering:    []string{"name", "created_at"},
		})
		r.Handle("/authors/{id}/", &views.RetrieveUpdateDestroyView[Author]{
			DB:          db,
			Serializer:  authorSer,
			Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly, staffDeletes{}},
		})
		r.Handle("/books/", &views.ListCreateView[Book]{
			DB:            db,
			Serializer:    bookSerializer(db),
			Queryset:      withOwner,
			Permissions:   []permissions.Permission{permissions.IsAuthenticatedOrReadOnly},
			Paginator:     pagination.LimitOffset{DefaultLimit: 10, MaxLimit: 100},
			Search:        []string{"title", "isbn"},
			Ordering:      []string{"title", "price_cents", "published_on"},
			Filter:        []string{"author"},
			PerformCreate: createBook,
		})
		r.Handle("/books/recent/", &views.ListView[Book]{
			DB:         db,
			Serializer: bookSerializer(db),
			Queryset:   withOwner,
			Paginator:  pagination.Cursor{PageSize: 10, Ordering: "-id", Key: []byte("openapi-test-cursor-key-0123456789abcdef")},
		})
		r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{
			DB:          db,
			Serializer:  bookSerializer(db),
			Queryset:    withOwner,
			Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly, ownerOrStaff},
		})
	})
	return &service{router: r, jwt: jwtAuth, auth: auths}
}

// config is the bookstore's document configuration.
func (s *service) config() openapi.Config {
	return openapi.Config{
		Title:          "Bookstore",
		Version:        "1.0.0",
		Description:    "The Cosworth bookstore.",
		Authenticators: s.auth,
		Exclude:        []string{"/healthz"},
		FieldSchemas: map[string]*openapi.Schema{
			"Book.owner": {Type: openapi.Types{"string", "null"}, Description: "The username of the user who created the book."},
		},
		Operations: map[string]*openapi.Operation{
			"POST /api/token/":         openapi.TokenObtainPairOperation(),
			"POST /api/token/refresh/": openapi.TokenRefreshOperation(),
			"POST /api/token/verify/":  openapi.TokenVerifyOperation(),
			"POST /api/token-auth/":    openapi.AuthTokenOperation(),
			"GET /api/me/": {
				Summary:   "The authenticated user",
				Responses: map[string]*openapi.Response{"200": openapi.JSONResponse("OK", openapi.SchemaFor[userOut]()), "401": openapi.ErrorResponse("Not authenticated.")},
				Security:  []openapi.SecurityRequirement{{openapi.SchemeJWT: {}}, {openapi.SchemeToken: {}}},
			},
		},
	}
}

// staffDeletes lets only staff delete; every other method passes.
type staffDeletes struct{}

func (staffDeletes) HasPermission(r *http.Request) bool {
	if r.Method != http.MethodDelete {
		return true
	}
	p := authentication.PrincipalFrom(r.Context())
	return p != nil && p.IsStaff
}

func (staffDeletes) HasObjectPermission(*http.Request, any) bool { return true }
