package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"net/http"
	"sync"

	"github.com/go-chi/chi/v5"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth"
	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/idempotency"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/realtime"
	"github.com/cosworth/cosworth/throttling"
	"github.com/cosworth/cosworth/views"
)

// deps is what the routes are built from.
type deps struct {
	db        *bun.DB
	jwt       *authentication.JWT
	auth      []authentication.Authenticator // JWT first: its challenge is the WWW-Authenticate of a 401
	tokenAuth http.Handler                   // POST /api/token-auth/
	login     throttling.Throttle            // 5 a minute per client, for /api/token-auth/
	cursorKey []byte
	health    http.Handler
	idem      func(http.Handler) http.Handler // Idempotency-Key on creates
	ctx       context.Context                 // ends the book feed's streams (shutdown)
	streams   *sync.WaitGroup                 // done when the book feed's streams have said goodbye
	rdb       *redis.Client                   // carries book events between instances; nil: in process
	prefix    string                          // of Redis keys
}

// newDeps builds the authenticators, throttles and keys from the
// configuration. With Redis, DRF tokens and throttle counters live there
// (shared by every instance); without, tokens are rows of the database and
// counters are kept in this process.
func newDeps(ctx context.Context, db *bun.DB, rdb *redis.Client, cfg config, pingers []cosworth.Pinger) deps {
	d := deps{
		ctx:     ctx,
		streams: &sync.WaitGroup{},
		rdb:     rdb,
		prefix:  cfg.redisPrefix,
		db:      db,
		jwt:     &authentication.JWT{Key: []byte(cfg.secret), DB: db},
		health:  cosworth.Health(db, pingers...),
	}
	// Cursors are signed with a key derived from the secret, so that every
	// instance accepts the others' cursors.
	sum := sha256.Sum256([]byte("bookstore cursor key\x00" + cfg.secret))
	d.cursorKey = sum[:]

	var tokens authentication.Authenticator
	var store throttling.Store
	var keys idempotency.Store
	if rdb != nil {
		rt := &authentication.Redis{Client: rdb, Prefix: cfg.redisPrefix}
		tokens, d.tokenAuth = rt, rt.ObtainHandler(db)
		store = &throttling.RedisStore{Client: rdb, Prefix: cfg.redisPrefix}
		keys = &idempotency.RedisStore{Client: rdb, Prefix: cfg.redisPrefix}
	} else {
		dt := &authentication.Token{DB: db}
		tokens, d.tokenAuth = dt, dt.ObtainHandler()
		store = &throttling.MemoryStore{}
		keys = &idempotency.DBStore{DB: db}
	}
	d.idem = idempotency.Middleware(idempotency.Options{Store: keys})
	d.auth = []authentication.Authenticator{bearerAuth(db, d.jwt, cfg), tokens}
	d.login = throttling.NewScopedRate("token-auth", "5/min", throttling.Options{Store: store})
	return d
}

// routes lists every route of the service on one screen, and serves the
// OpenAPI document generated from them at /api/schema/. It returns an
// error when a view is misconfigured (generation sets every view up).
func routes(d deps) (http.Handler, error) {
	notFound := func(w http.ResponseWriter, r *http.Request) { views.WriteError(w, r, models.ErrNotFound) }
	r := chi.NewRouter()
	r.NotFound(notFound)
	r.Handle("/healthz", d.health)
	r.Handle("/readyz", d.health)

	api := chi.NewRouter()
	api.NotFound(notFound)
	api.Use(authentication.Middleware(d.auth...))

	api.Handle("/register/", registerView(d.db))
	api.Handle("/me/", meView())
	api.Handle("/token/", d.jwt.ObtainPairHandler(d.db))
	api.Handle("/token/refresh/", d.jwt.RefreshHandler())
	api.Handle("/token/verify/", d.jwt.VerifyHandler())
	api.Handle("/token-auth/", throttling.Handler(d.tokenAuth, d.login))
	api.Handle("/me/password/", passwordView(d.db, d.auth))
	api.Handle("/users/", usersView(d.db))
	api.Handle("/users/{id}/", userAdminView(d.db, d.auth))

	api.With(d.idem).Handle("/authors/", &views.ListCreateView[Author]{
		DB:          d.db,
		Serializer:  authorSerializer(),
		Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly},
		Paginator:   pagination.PageNumber{PageSize: 10, MaxPageSize: 100},
		Search:      []string{"name"},
		Ordering:    []string{"name", "created_at", "book_count"},
	})
	api.Handle("/authors/{id}/", &views.RetrieveUpdateDestroyView[Author]{
		DB:         d.db,
		Serializer: authorSerializer(),
		// Anyone reads, authenticated users change, only staff delete.
		Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly, staffDeletes{}},
	})

	books := &views.ListCreateView[Book]{
		DB:            d.db,
		Serializer:    bookSerializer(),
		Queryset:      withOwner,
		Permissions:   []permissions.Permission{permissions.IsAuthenticatedOrReadOnly},
		Paginator:     pagination.LimitOffset{DefaultLimit: 10, MaxLimit: 100},
		Search:        []string{"title", "isbn"},
		Ordering:      []string{"title", "price_cents", "published_on"},
		Filter:        []string{"author", "price_cents__gte", "price_cents__lte", "published_on__gte", "published_on__lte", "author__in", "published_on__isnull"},
		PerformCreate: createBook,
	}
	api.With(d.idem).Handle("/books/", books)
	api.Handle("/books/recent/", &views.ListView[Book]{
		DB:         d.db,
		Serializer: bookSerializer(),
		Queryset:   withOwner,
		Paginator:  pagination.Cursor{PageSize: 10, Ordering: "-id", Key: d.cursorKey},
	})
	book := &views.RetrieveUpdateDestroyView[Book]{
		DB:          d.db,
		Serializer:  bookSerializer(),
		Queryset:    withOwner,
		Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly, bookWriters(d.db)},
	}
	api.Handle("/books/{id}/", book)
	// Book changes as they commit, to anyone who may list books (SSE or
	// WebSocket). Every book is visible: withOwner only joins.
	events := realtime.New(d.ctx, (*views.Generic[Book])(books), realtime.Options[Book]{
		Redis: d.rdb, Prefix: d.prefix + "realtime:", Authenticators: d.auth, QueryToken: true,
		Visible: func(*http.Request, *Book) bool { return true },
	})
	book.OnCommit = events.OnCommit
	d.streams.Go(events.Wait)
	api.Handle("/books/events/", events)

	r.Mount("/api", api)

	cfg := schemaConfig(d.auth)
	cfg.Operations["GET /api/books/events/"] = events.Operation()
	doc, err := openapi.Generate(r, cfg)
	if err != nil {
		return nil, fmt.Errorf("OpenAPI document: %w", err)
	}
	api.Get("/schema/", openapi.Handler(doc).ServeHTTP)
	return r, nil
}

// schemaConfig describes what generation cannot see: the endpoints that
// are not generic views, and the owner field Represent writes.
func schemaConfig(auths []authentication.Authenticator) openapi.Config {
	user := openapi.JSONResponse("The user", openapi.SchemaFor[userOut]())
	c := openapi.Config{
		Title:          "Bookstore",
		Version:        "1.0.0",
		Description:    "Cosworth's example service (examples/bookstore).",
		Authenticators: auths,
		Exclude:        []string{"/healthz", "/readyz"},
		FieldSchemas: map[string]*openapi.Schema{
			"Book.owner": {Type: openapi.Types{"string", "null"}, Description: "The username of the user who created the book."},
		},
		Operations: map[string]*openapi.Operation{
			"POST /api/token/":         openapi.TokenObtainPairOperation(),
			"POST /api/token/refresh/": openapi.TokenRefreshOperation(),
			"POST /api/token/verify/":  openapi.TokenVerifyOperation(),
			"POST /api/token-auth/":    openapi.AuthTokenOperation(),
			"POST /api/register/": {
				Summary: "Register a user",
				RequestBody: &openapi.RequestBody{Required: true, Content: map[string]openapi.MediaType{
					"application/json": {Schema: openapi.SchemaFor[registration]()},
				}},
				Responses: map[string]*openapi.Response{
					"201": user,
					"400": openapi.ValidationResponse(),
				},
			},
			"GET /api/me/": {
				Summary:   "The authenticated user",
				Responses: map[string]*openapi.Response{"200": user, "401": openapi.ErrorResponse("Not authenticated.")},
				Security:  []openapi.SecurityRequirement{{openapi.SchemeJWT: {}}, {openapi.SchemeToken: {}}},
			},
		},
	}
	maps.Copy(c.Operations, accountOperations())
	c.SecuritySchemes = map[string]*openapi.SecurityScheme{openapi.SchemeJWT: openapi.JWTScheme()} // also when OIDC takes the bearer tokens first
	return c
}
