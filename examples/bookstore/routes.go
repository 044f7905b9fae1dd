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
	r := chi.NewRouter()
	// A method chi does not know reaches the views, which answer 401 or
	// 405 as DRF does; a path missing its trailing slash is redirected.
	r.Use(views.AnyMethod)
	notFound := views.NotFound(r)
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

	// The project's defaults (DRF's REST_FRAMEWORK setting): reads for
	// anyone, writes for authenticated users.
	defaults := views.Defaults{Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly}}
	router := &views.DefaultRouter{SimpleRouter: views.SimpleRouter{Defaults: defaults}}
	bookPages := pagination.LimitOffset{DefaultLimit: 10, MaxLimit: 100}

	authors := &views.ModelViewSet[Author]{
		Generic: views.Generic[Author]{
			DB:         d.db,
			Serializer: authorSerializer(),
			Paginator:  pagination.PageNumber{PageSize: 10, MaxPageSize: 100},
			Search:     []string{"name"},
			Ordering:   []string{"name", "created_at", "book_count"},
		},
		// Only staff delete (DRF: get_permissions by self.action).
		PerAction: func(action string, g *views.Generic[Author]) {
			if action == "destroy" {
				g.Permissions = []permissions.Permission{permissions.IsAuthenticatedOrReadOnly, staffDeletes{}}
			}
		},
		Actions: []views.Action[Author]{{
			Name:        "books",
			Detail:      true,
			Permissions: []permissions.Permission{permissions.AllowAny},
			Description: "The author's books, with the books' limit/offset pagination.",
			Run:         views.Run(authorBooks(d.db, bookPages)),
		}},
	}
	books := &views.ModelViewSet[Book]{
		Generic: views.Generic[Book]{
			DB:         d.db,
			Serializer: bookSerializer(),
			// Set here, not only in the router's defaults: the book feed
			// below checks the permissions of this configuration.
			Permissions:  []permissions.Permission{permissions.IsAuthenticatedOrReadOnly},
			Paginator:    bookPages,
			Search:       []string{"title", "isbn"},
			Ordering:     []string{"title", "price_cents", "published_on"},
			Filter:       []string{"author", "price_cents__gte", "price_cents__lte", "published_on__gte", "published_on__lte", "author__in", "published_on__isnull"},
			BeforeCreate: ownBook,
		},
		// Changing a book takes its owner, staff or an editor.
		PerAction: func(action string, g *views.Generic[Book]) {
			switch action {
			case "retrieve", "update", "partial_update", "destroy":
				g.Permissions = []permissions.Permission{permissions.IsAuthenticatedOrReadOnly, bookWriters(d.db)}
			}
		},
		Actions: []views.Action[Book]{{
			Name:        "discount",
			Detail:      true,
			Methods:     []string{http.MethodPost},
			Permissions: []permissions.Permission{permissions.IsAuthenticated, permissions.IsOwnerOrStaffOrReadOnly(bookOwner)},
			Description: "Lowers the book's price by percent (1 to 90) on the locked row.",
			Run:         views.RunBody(discountBook),
		}},
	}
	// Book changes as they commit, to anyone who may list books (SSE or
	// WebSocket); New hooks the feed to every action of the viewset.
	// Every book is visible.
	events := realtime.New(d.ctx, &books.Generic, realtime.Options[Book]{
		Redis: d.rdb, Prefix: d.prefix + "realtime:", Authenticators: d.auth, QueryToken: true,
		Visible: func(*http.Request, *Book) bool { return true },
	})
	d.streams.Go(events.Wait)
	api.Handle("/books/events/", events)
	recent := &views.ListView[Book]{
		DB:         d.db,
		Serializer: bookSerializer(),
		Paginator:  pagination.Cursor{PageSize: 10, Ordering: "-id", Key: d.cursorKey},
	}
	views.ApplyDefaults((*views.Generic[Book])(recent), defaults)
	api.Handle("/books/recent/", recent)

	router.Register("authors", authors, "author")
	router.Register("books", books, "book")
	// Idempotency-Key applies to the POST and PATCH routes of the viewsets.
	router.Install(api.With(d.idem))

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

// discountRequest is the body of POST /api/books/{id}/discount/.
type discountRequest struct {
	Percent int64 `json:"percent" validate:"required,min=1,max=90"`
}

// discountBook lowers the locked book's price by in.Percent, rounding
// down as Python's // does for non-negative prices.
func discountBook(c *views.Call[Book], in *discountRequest) error {
	c.Object.PriceCents = c.Object.PriceCents * (100 - in.Percent) / 100
	return c.Save("price_cents")
}

// authorBooks lists the books of the action's author, with pg.
func authorBooks(db *bun.DB, pg pagination.Paginator) func(c *views.Call[Author]) error {
	ser := bookSerializer()
	return func(c *views.Call[Author]) error {
		var rows []Book
		q := db.NewSelect().Model(&rows).
			Relation("Owner", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Column("id", "username") }).
			Where("book.author_id = ?", models.IntParam(c.Object.ID)).
			Order("book.id")
		page, err := views.Paginate(c.Request, db, q, pg, &rows)
		if err != nil {
			return err
		}
		out := page.AppendOpen(nil)
		out = ser.AppendList(out, rows)
		c.Respond(http.StatusOK, page.AppendClose(out))
		return nil
	}
}

// schemaConfig describes what generation cannot see: the endpoints that
// are not generic views, and what the owner field means.
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
			// An action answering another model than its viewset's:
			// the books' page, as GET /api/books/ describes it.
			"GET /api/authors/{id}/books/": {
				Summary:     "The author's books",
				OperationID: "authors_books_list",
				Parameters: []*openapi.Parameter{
					{Name: "limit", In: "query", Description: "Number of results to return per page.", Schema: &openapi.Schema{Type: openapi.Types{"integer"}}},
					{Name: "offset", In: "query", Description: "The initial index from which to return the results.", Schema: &openapi.Schema{Type: openapi.Types{"integer"}}},
				},
				Responses: map[string]*openapi.Response{
					"200": openapi.JSONResponse("A page of the author's books", openapi.Ref("PaginatedBookList")),
					"404": openapi.ErrorResponse("Not found."),
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
