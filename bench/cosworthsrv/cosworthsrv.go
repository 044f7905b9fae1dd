// Package cosworthsrv is the Cosworth side of the performance benchmarks:
// the books list, retrieve, create and update of the bookstore contract
// built from views.ListCreateView and views.RetrieveUpdateDestroyView with
// a LimitOffset paginator, over the schema of ../bookdb. It is what a user
// of Cosworth writes, and it answers the same bytes as ../baseline.
package cosworthsrv

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// Book is the contract's book over the bookdb schema.
type Book struct {
	bun.BaseModel `bun:"table:books,alias:book"`

	ID          int64        `bun:"id,pk,autoincrement" json:"id" cosworth:"read_only"`
	Title       string       `bun:"title,notnull" json:"title" validate:"required,max=200"`
	ISBN        string       `bun:"isbn,notnull,unique" json:"isbn" validate:"required,len=13,numeric"`
	AuthorID    int64        `bun:"author_id,notnull" json:"author" validate:"required"`
	PriceCents  int64        `bun:"price_cents,notnull" json:"price_cents" validate:"gte=0"`
	PublishedOn *models.Date `bun:"published_on,type:date" json:"published_on"`
	Owner       string       `bun:"owner,notnull" json:"owner" cosworth:"read_only"`
	CreatedAt   time.Time    `bun:"created_at,nullzero,notnull,default:current_timestamp" json:"created_at" cosworth:"read_only"`
}

// New returns the books API over db: anyone reads; writes need
// "Authorization: Token <token>", which authenticates as user; only a
// book's owner (or staff) may change it.
func New(db *bun.DB, token string, user authentication.Principal) http.Handler {
	if token == "" {
		panic("cosworthsrv: empty token")
	}
	r := chi.NewRouter()
	r.Use(authentication.Middleware(&tokenAuth{token: []byte(token), user: &user}))
	r.Handle("/api/books/", &views.ListCreateView[Book]{
		DB:           db,
		Permissions:  []permissions.Permission{permissions.IsAuthenticatedOrReadOnly},
		Paginator:    pagination.LimitOffset{},
		BeforeCreate: setOwner,
	})
	r.Handle("/api/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{
		DB:          db,
		Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly, ownerOrReadOnly},
	})
	return r
}

// setOwner makes the caller the new book's owner; the view inserts it.
func setOwner(r *http.Request, b *Book) error {
	b.Owner = authentication.PrincipalFrom(r.Context()).Username
	return nil
}

// tokenAuth authenticates "Authorization: Token <key>" against one fixed
// key, as the baseline does, so both servers pay the same for it.
type tokenAuth struct {
	token []byte
	user  *authentication.Principal
}

func (a *tokenAuth) Authenticate(r *http.Request) (*authentication.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	key, ok := strings.CutPrefix(h, "Token ")
	if !ok || subtle.ConstantTimeCompare([]byte(key), a.token) != 1 {
		return nil, &authentication.FailedError{Detail: "Invalid token."}
	}
	return a.user, nil
}

func (a *tokenAuth) Challenge() string { return "Token" }

// ownerOrReadOnly lets only a book's owner, or staff, change it; this
// schema stores the owner's username, as the contract shows it. Its row
// condition lets an update run as one statement, as the baseline's does.
var ownerOrReadOnly = permissions.OwnerOrReadOnly[Book]{
	OwnerName: func(b *Book) string { return b.Owner },
	Staff:     true,
}

// Open opens the Cosworth database for dsn with a pool of maxConns, as the
// server does.
func Open(ctx context.Context, dsn string, maxConns int) (*bun.DB, error) {
	return models.Open(ctx, dsn, models.WithMaxConns(maxConns))
}
