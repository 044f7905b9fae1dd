package views_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

// ShelfBook is the example bookstore's Book: two belongs-to relations,
// one of them (Owner) joined by the views' Queryset for its username.
type ShelfBook struct {
	bun.BaseModel `bun:"table:shelf_books,alias:book"`
	models.Base
	Title       string       `bun:"title,notnull" json:"title"`
	AuthorID    int64        `bun:"author_id,notnull" json:"author"`
	PublishedOn *models.Date `bun:"published_on,type:date" json:"published_on"`
	OwnerID     int64        `bun:"owner_id,notnull" json:"-"`
	Owner       *models.User `bun:"rel:belongs-to,join:owner_id=id" json:"owner"`
	Author      *Author      `bun:"rel:belongs-to,join:author_id=id" json:"-"`
}

// TestRelationReadsOnPgx checks that the reads of models that declare
// relations run on pgx (bun counts the queries it runs): the views tests'
// Book, whose Author relation no query joins, and the bookstore's Book,
// whose Owner the Queryset joins.
func TestRelationReadsOnPgx(t *testing.T) {
	db := dbtest.Postgres(t, (*models.User)(nil), (*Author)(nil), (*Book)(nil), (*ShelfBook)(nil))
	ctx := t.Context()
	_, err := db.NewInsert().Model(&[]Author{{Name: "Ann", Email: "ann@example.com"}, {Name: "Bob", Email: "bob@example.com"}}).Exec(ctx)
	dbtest.Must(t, err, "authors")
	_, err = db.NewInsert().Model(&[]Book{
		{Title: "One", ISBN: "9780000000001", AuthorID: 1, PriceCents: 100, Owner: "ann"},
		{Title: "Two", ISBN: "9780000000002", AuthorID: 2, PriceCents: 200, Owner: "bob"},
		{Title: "Three", ISBN: "9780000000003", AuthorID: 1, PriceCents: 300, Owner: "ann"},
	}).Exec(ctx)
	dbtest.Must(t, err, "books")
	_, err = db.NewInsert().Model(&[]models.User{{Username: "ann", IsActive: true}, {Username: "bob", IsActive: true}}).Exec(ctx)
	dbtest.Must(t, err, "users")
	_, err = db.NewInsert().Model(&[]ShelfBook{{Title: "One", AuthorID: 1, OwnerID: 1}, {Title: "Two", AuthorID: 2, OwnerID: 2}}).Exec(ctx)
	dbtest.Must(t, err, "shelf books")

	withOwner := func(_ *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
		return q.Relation("Owner", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Column("id", "username") })
	}
	shelf := &serializers.Serializer[ShelfBook]{
		Fields: []string{"id", "title", "author", "published_on", "owner"},
		Represent: map[string]func(dst []byte, b *ShelfBook) []byte{
			"owner": func(dst []byte, b *ShelfBook) []byte {
				if b.Owner == nil {
					return append(dst, "null"...)
				}
				return serializers.AppendString(dst, b.Owner.Username)
			},
		},
	}
	r := chi.NewRouter()
	r.Handle("/books/", &views.ListView[Book]{DB: db, Paginator: pagination.LimitOffset{}, Search: []string{"owner"}})
	r.Handle("/books/{id}/", &views.RetrieveView[Book]{DB: db})
	r.Handle("/shelf/", &views.ListView[ShelfBook]{DB: db, Serializer: shelf, Queryset: withOwner, Paginator: pagination.LimitOffset{}, Search: []string{"title"}})
	r.Handle("/shelf/{id}/", &views.RetrieveView[ShelfBook]{DB: db, Serializer: shelf, Queryset: withOwner})

	for _, c := range []struct{ path, want string }{
		{"/books/?search=ann", `{"count":2,"next":null,"previous":null,"results":[` +
			`{"id":1,"title":"One","isbn":"9780000000001","author":1,"price_cents":100,"owner":"ann"},` +
			`{"id":3,"title":"Three","isbn":"9780000000003","author":1,"price_cents":300,"owner":"ann"}]}`},
		{"/books/2/", `{"id":2,"title":"Two","isbn":"9780000000002","author":2,"price_cents":200,"owner":"bob"}`},
		{"/shelf/?search=o", `{"count":2,"next":null,"previous":null,"results":[` +
			`{"id":1,"title":"One","author":1,"published_on":null,"owner":"ann"},{"id":2,"title":"Two","author":2,"published_on":null,"owner":"bob"}]}`},
		{"/shelf/2/", `{"id":2,"title":"Two","author":2,"published_on":null,"owner":"bob"}`},
	} {
		before := db.DBStats().Queries
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, c.path, nil))
		if w.Code != http.StatusOK || !jsonEqual(w.Body.Bytes(), []byte(c.want)) {
			t.Errorf("GET %s: %d %s\nwant %s", c.path, w.Code, w.Body, c.want)
		}
		if n := db.DBStats().Queries - before; n != 0 {
			t.Errorf("GET %s: bun ran %d queries; pgx should run them all", c.path, n)
		}
	}
}

// noHook is a query hook that does nothing: a DB with it runs every query
// on bun, for comparison.
type noHook struct{}

func (noHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (noHook) AfterQuery(context.Context, *bun.QueryEvent)                        {}

// BenchmarkRelationReads serves the bookstore's book list (a page of 10
// with the count, the owner joined) and one book, on pgx and, through a
// DB with a query hook, on bun.
func BenchmarkRelationReads(b *testing.B) {
	db := dbtest.Postgres(b, (*models.User)(nil), (*Author)(nil), (*ShelfBook)(nil))
	ctx := context.Background()
	_, err := db.NewInsert().Model(&Author{Name: "Ann", Email: "ann@example.com"}).Exec(ctx)
	dbtest.Must(b, err, "author")
	_, err = db.NewInsert().Model(&models.User{Username: "ann", IsActive: true}).Exec(ctx)
	dbtest.Must(b, err, "user")
	books := make([]ShelfBook, 30)
	for i := range books {
		books[i] = ShelfBook{Title: "The Dispossessed", AuthorID: 1, OwnerID: 1}
	}
	_, err = db.NewInsert().Model(&books).Exec(ctx)
	dbtest.Must(b, err, "books")
	withOwner := func(_ *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
		return q.Relation("Owner", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Column("id", "username") })
	}
	for _, c := range []struct {
		name string
		db   *bun.DB
	}{{"pgx", db}, {"bun", db.WithQueryHook(noHook{})}} {
		r := chi.NewRouter()
		r.Handle("/books/", &views.ListView[ShelfBook]{DB: c.db, Queryset: withOwner, Paginator: pagination.LimitOffset{}})
		r.Handle("/books/{id}/", &views.RetrieveView[ShelfBook]{DB: c.db, Queryset: withOwner})
		for _, path := range []string{"/books/?limit=10&offset=10", "/books/7/"} {
			b.Run(c.name+path, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				b.ReportAllocs()
				for b.Loop() {
					serve(b, r, req)
				}
			})
		}
	}
}
