package filters_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

type author struct {
	bun.BaseModel `bun:"table:authors"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Name          string `bun:"name,notnull" json:"name"`
}

type book struct {
	bun.BaseModel `bun:"table:books"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	Title         string    `bun:"title,notnull" json:"title"`
	ISBN          string    `bun:"isbn,notnull" json:"isbn"`
	AuthorID      int64     `bun:"author_id,notnull" json:"author"`
	Author        *author   `bun:"rel:belongs-to,join:author_id=id" json:"-"`
	PriceCents    int32     `bun:"price_cents,notnull" json:"price_cents"`
	InStock       bool      `bun:"in_stock,notnull" json:"in_stock"`
	Rating        *float64  `bun:"rating" json:"rating"`
	CreatedAt     time.Time `bun:"created_at,notnull" json:"created_at"`
	Secret        string    `bun:"secret" json:"-"`
}

var (
	t0    = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	books = []book{
		{Title: "Go Programming", ISBN: "9780000000001", AuthorID: 1, PriceCents: 1999, InStock: true},
		{Title: "GOLANG in depth", ISBN: "9780000000002", AuthorID: 1, PriceCents: 2999},
		{Title: "50% off", ISBN: "9780000000003", AuthorID: 2, PriceCents: 500, InStock: true},
		{Title: "500 off", ISBN: "9780000000004", AuthorID: 2, PriceCents: 500},
		{Title: "a_b", ISBN: "9780000000005", AuthorID: 2, PriceCents: 100},
		{Title: "axb", ISBN: "9780000000006", AuthorID: 2, PriceCents: 100},
		{Title: `back\slash`, ISBN: "9780000000007", AuthorID: 1, PriceCents: 700},
		{Title: "O'Reilly", ISBN: "9780000000008", AuthorID: 1, PriceCents: 800},
		{Title: "Éclair", ISBN: "9780000000009", AuthorID: 2, PriceCents: 900},
		{Title: "id", ISBN: "9780000000010", AuthorID: 2, PriceCents: 1000},
	}
)

// queryLog records the statements bun runs.
type queryLog struct {
	mu      sync.Mutex
	queries []string
}

func (l *queryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (l *queryLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	l.queries = append(l.queries, e.Query)
	l.mu.Unlock()
}

func (l *queryLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queries) == 0 {
		return ""
	}
	return l.queries[len(l.queries)-1]
}

// forEachDB runs fn against authors and books on PostgreSQL and SQLite.
func forEachDB(t *testing.T, fn func(t *testing.T, db *bun.DB, log *queryLog)) {
	for name, open := range dbtest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			for _, m := range []any{(*author)(nil), (*book)(nil)} {
				_, err := db.NewCreateTable().Model(m).Exec(ctx)
				dbtest.Must(t, err, "create table")
			}
			authors := []author{{Name: "Ann"}, {Name: "Bob"}}
			_, err := db.NewInsert().Model(&authors).Exec(ctx)
			dbtest.Must(t, err, "insert authors")
			rows := make([]book, len(books))
			copy(rows, books)
			for i := range rows {
				rows[i].CreatedAt = t0.Add(time.Duration(i) * time.Hour)
				if i%2 == 0 {
					r := float64(i) + 0.5
					rows[i].Rating = &r
				}
			}
			_, err = db.NewInsert().Model(&rows).Exec(ctx)
			dbtest.Must(t, err, "insert books")
			log := &queryLog{}
			fn(t, db.WithQueryHook(log), log)
			n, err := db.NewSelect().Model((*book)(nil)).Count(ctx)
			dbtest.Must(t, err, "count")
			if n != int64(len(books)) {
				t.Errorf("books table has %d rows after the test, want %d", n, len(books))
			}
			var names []string
			dbtest.Must(t, db.NewSelect().Model((*author)(nil)).Column("name").Scan(ctx, &names), "authors")
			if len(names) != 2 {
				t.Errorf("authors table has %d rows after the test", len(names))
			}
		})
	}
}

func table(db *bun.DB) *schema.Table { return db.Table(reflect.TypeFor[book]()) }

// apply runs f on the books query for target and returns the ids found.
func apply(t *testing.T, db *bun.DB, f filters.Filter, target string) ([]int64, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	var rows []book
	q := db.NewSelect().Model(&rows)
	q, err := f.Apply(r, q)
	if err != nil {
		return nil, err
	}
	if _, ok := f.(*filters.Ordering); !ok {
		q = q.OrderExpr("?TableAlias.id ASC")
	}
	if err := q.Scan(r.Context()); err != nil {
		t.Fatalf("%s: query failed: %v", target, err)
	}
	ids := make([]int64, len(rows))
	for i, b := range rows {
		ids[i] = b.ID
	}
	return ids, nil
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func all() []int64 {
	ids := make([]int64, len(books))
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	return ids
}

func TestSearch(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB, log *queryLog) {
		s, err := filters.NewSearch(table(db), []string{"title", "isbn"})
		dbtest.Must(t, err, "NewSearch")
		long := strings.Repeat("x", 150)
		tests := []struct {
			query string
			want  []int64
		}{
			{"", all()},
			{"search=", all()},
			{"search=+,+", all()},
			{"search=go", []int64{1, 2}},
			{"search=GO", []int64{1, 2}},
			{"search=go+prog", []int64{1}},
			{"search=go,prog", []int64{1}},
			{"search=go%09depth", []int64{2}},
			{"search=0000000004", []int64{4}},     // second field (OR)
			{"search=off+0000000004", []int64{4}}, // terms ANDed across fields
			{"search=50%25", []int64{3}},          // % is literal
			{"search=a_b", []int64{5}},            // _ is literal
			{"search=%5C", []int64{7}},            // \ is literal
			{"search=k%5Cs", []int64{7}},
			{"search=O'R", []int64{8}},         // quotes are data
			{"search=%27%29+OR+1%3D1+--", nil}, // ') OR 1=1 --
			{"search=%27%3B+DROP+TABLE+books%3B+--", nil},
			{"search=go%00lang", []int64{2}}, // NUL removed, as DRF
			{"search=%00", all()},
			{"search=%FF%FE", nil}, // invalid UTF-8: U+FFFD, no error
			{"search=%C3%89clair", []int64{9}},
			{"search=x&search=go", []int64{1, 2}}, // last value wins
			// Only the first 10 terms count: the 11th would match nothing.
			{"search=o+o+o+o+o+o+o+o+o+o+zzzz", []int64{1, 2, 3, 4, 8}},
			// Terms are cut to 100 characters (here: no row has 100 x's).
			{"search=" + long, nil},
		}
		for _, tt := range tests {
			got, err := apply(t, db, s, "http://h/books/?"+tt.query)
			if err != nil {
				t.Errorf("%s: %v", tt.query, err)
				continue
			}
			if !equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
			}
		}
		// Request text reaches SQL only inside quoted literals.
		_, _ = apply(t, db, s, "http://h/books/?search=%27%29+OR+1%3D1+--")
		if q := log.last(); !strings.Contains(q, `'%'')%'`) || !strings.Contains(q, `'%OR%'`) || strings.Contains(q, `') OR`) {
			t.Errorf("attack terms not quoted literals: %s", q)
		}
		// Only the first 10 terms reach SQL.
		_, _ = apply(t, db, s, "http://h/books/?search=t1+t2+t3+t4+t5+t6+t7+t8+t9+t10+t11")
		q := log.last()
		if !strings.Contains(q, "t10") || strings.Contains(q, "t11") {
			t.Errorf("terms in SQL: %s", q)
		}
		_, _ = apply(t, db, s, "http://h/books/?search="+long)
		if q := log.last(); strings.Contains(q, strings.Repeat("x", 101)) || !strings.Contains(q, strings.Repeat("x", 100)) {
			t.Errorf("long term not cut to 100 characters: %s", q)
		}

		// Non-text fields are compared as text.
		s2, err := filters.NewSearch(table(db), []string{"price_cents", "=title", "^isbn"})
		dbtest.Must(t, err, "NewSearch non-text")
		for _, tt := range []struct {
			query string
			want  []int64
		}{
			{"search=299", []int64{2}},
			{"search=go+programming", nil}, // "=" is whole-value match, per term
			{"search=AXB", []int64{6}},
			{"search=978000000001", []int64{10}},
			{"search=0000000001", nil}, // "^" is starts-with
		} {
			got, err := apply(t, db, s2, "http://h/books/?"+tt.query)
			if err != nil || !equal(got, tt.want) {
				t.Errorf("%s: got %v %v, want %v", tt.query, got, err, tt.want)
			}
		}
	})
}

func TestOrdering(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB, log *queryLog) {
		o, err := filters.NewOrdering(table(db), []string{"title", "price_cents", "id"}, []string{"-price_cents"})
		dbtest.Must(t, err, "NewOrdering")
		byPriceDesc := []int64{2, 1, 10, 9, 8, 7, 3, 4, 5, 6} // ties by id ascending
		byPriceAsc := []int64{5, 6, 3, 4, 7, 8, 9, 10, 1, 2}
		tests := []struct {
			query string
			want  []int64
		}{
			{"", byPriceDesc},
			{"ordering=", byPriceDesc},
			{"ordering=price_cents", byPriceAsc},
			{"ordering=%20price_cents%20", byPriceAsc},
			{"ordering=price_cents,-id", []int64{6, 5, 4, 3, 7, 8, 9, 10, 1, 2}},
			{"ordering=-id", []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
			{"ordering=nope", byPriceDesc},                    // unknown: ignored, default
			{"ordering=secret", byPriceDesc},                  // hidden and not allowed
			{"ordering=author", byPriceDesc},                  // a field, not allowed
			{"ordering=nope,price_cents", byPriceAsc},         // unknown dropped, rest kept
			{"ordering=price_cents,-price_cents", byPriceAsc}, // duplicate: first wins
			{"ordering=--price_cents", byPriceDesc},           // malformed
			{"ordering=%2Bprice_cents", byPriceDesc},          // "+price_cents"
			{"ordering=id%3BDROP+TABLE+books", byPriceDesc},   // id;DROP TABLE books
			{"ordering=%22id%22", byPriceDesc},                // "id"
			{"ordering=id+desc", byPriceDesc},                 // id desc
			{"ordering=(select+1)", byPriceDesc},
			{"ordering=price_cents%00", byPriceDesc},
			{"ordering=nope&ordering=price_cents", byPriceAsc}, // last value wins
			// Only the first 100 terms are examined.
			{"ordering=" + strings.Repeat("x,", 99) + "price_cents", byPriceAsc},
			{"ordering=" + strings.Repeat("x,", 100) + "price_cents", byPriceDesc},
		}
		for _, tt := range tests {
			got, err := apply(t, db, o, "http://h/books/?"+tt.query)
			if err != nil {
				t.Errorf("%s: %v", tt.query, err)
				continue
			}
			if !equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
			}
			q := strings.ToLower(log.last())
			q = q[strings.Index(q, " order by "):]
			for _, bad := range []string{"drop", "select 1", `"id" desc,`, "nope", "secret"} {
				if strings.Contains(q, bad) {
					t.Errorf("%s: SQL contains %q: %s", tt.query, bad, q)
				}
			}
		}
		// At most five terms; the primary key ends every ordering once.
		_, _ = apply(t, db, o, "http://h/books/?ordering=title,price_cents,-title,id,nope,x,y,z")
		q := log.last()
		if i := strings.Index(q, "ORDER BY"); i < 0 || strings.Count(q[i:], `"id"`) != 1 {
			t.Errorf("ORDER BY of a request naming id: %s", q)
		}
		_, _ = apply(t, db, o, "http://h/books/?ordering=title,price_cents")
		q = log.last()
		if !strings.HasSuffix(q, `ORDER BY "book"."title" ASC, "book"."price_cents" ASC, "book"."id" ASC`) {
			t.Errorf("ORDER BY: %s", q)
		}
		// No allowed fields: only the default (here none: the primary key).
		o2, err := filters.NewOrdering(table(db), nil, nil)
		dbtest.Must(t, err, "NewOrdering without fields")
		got, err := apply(t, db, o2, "http://h/books/?ordering=-id")
		if err != nil || !equal(got, all()) {
			t.Errorf("ordering without allowed fields: %v %v", got, err)
		}
	})
}

func TestFields(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB, log *queryLog) {
		f, err := filters.NewFields(table(db), []string{"author", "price_cents", "in_stock", "title", "created_at", "rating", "isbn"})
		dbtest.Must(t, err, "NewFields")
		tests := []struct {
			query string
			want  []int64
			err   string // the error body, "" for none
		}{
			{"", all(), ""},
			{"author=", all(), ""}, // empty: no filter
			{"author=1", []int64{1, 2, 7, 8}, ""},
			{"author=+2+", []int64{3, 4, 5, 6, 9, 10}, ""},
			{"author=1&author=2", []int64{3, 4, 5, 6, 9, 10}, ""}, // last wins
			{"author=3", nil, `{"author":["Select a valid choice. That choice is not one of the available choices."]}`},
			{"author=abc", nil, `{"author":["Select a valid choice. That choice is not one of the available choices."]}`},
			{"author=1.0", nil, `{"author":["Select a valid choice. That choice is not one of the available choices."]}`},
			{"author=1+OR+1%3D1", nil, `{"author":["Select a valid choice. That choice is not one of the available choices."]}`},
			{"author=99999999999999999999", nil, `{"author":["Select a valid choice. That choice is not one of the available choices."]}`},
			{"price_cents=500", []int64{3, 4}, ""},
			{"price_cents=500.9", []int64{3, 4}, ""}, // truncated, as Django's int(Decimal)
			{"price_cents=5e2", []int64{3, 4}, ""},
			{"price_cents=99999999999", nil, ""}, // outside int32: matches nothing
			{"price_cents=abc", nil, `{"price_cents":["Enter a number."]}`},
			{"price_cents=NaN", nil, `{"price_cents":["Enter a number."]}`},
			{"price_cents=1;DROP+TABLE+books", nil, `{"price_cents":["Enter a number."]}`},
			{"in_stock=true", []int64{1, 3}, ""},
			{"in_stock=TRUE", []int64{1, 3}, ""},
			{"in_stock=0", []int64{2, 4, 5, 6, 7, 8, 9, 10}, ""},
			{"in_stock=maybe", all(), ""}, // django-filter's BooleanWidget: no filter
			{"title=O'Reilly", []int64{8}, ""},
			{"title=o'reilly", nil, ""}, // exact is case-sensitive
			{"title=x%27+OR+%271%27%3D%271", nil, ""},
			{"title=a%00b", nil, `{"title":["Null characters are not allowed."]}`},
			{"title=%FF", nil, ""},
			{"created_at=2024-01-02T04:04:05Z", []int64{2}, ""},
			{"created_at=2024-01-02T06:04:05%2B02:00", []int64{2}, ""},
			{"created_at=2024-01-02+03:04:05", []int64{1}, ""},
			{"created_at=yesterday", nil, `{"created_at":["Enter a valid date/time."]}`},
			{"rating=2.5", []int64{3}, ""},
			{"rating=x", nil, `{"rating":["Enter a number."]}`},
			{"isbn=9780000000005", []int64{5}, ""},
			{"author=1&price_cents=1999", []int64{1}, ""},
			// Every bad parameter is reported, in field order.
			{"price_cents=x&author=x", nil, `{"author":["Select a valid choice. That choice is not one of the available choices."],"price_cents":["Enter a number."]}`},
			{"title=%00&created_at=x&author=3&in_stock=x", nil, `{"author":["Select a valid choice. That choice is not one of the available choices."],"title":["Null characters are not allowed."],"created_at":["Enter a valid date/time."]}`},
			{"secret=x", all(), ""}, // not a filter field
		}
		for _, tt := range tests {
			got, err := apply(t, db, f, "http://h/books/?"+tt.query)
			if tt.err != "" {
				var fe *models.ValidationError
				if !errors.As(err, &fe) {
					t.Errorf("%s: err = %v, want a *models.ValidationError", tt.query, err)
					continue
				}
				if fe.StatusCode() != http.StatusBadRequest {
					t.Errorf("%s: status %d", tt.query, fe.StatusCode())
				}
				if body := string(fe.AppendJSON(nil)); body != tt.err {
					t.Errorf("%s: body %s, want %s", tt.query, body, tt.err)
				}
				for _, f := range fe.Fields {
					if len(f.Messages) != 1 {
						t.Errorf("%s: %s has %d messages, want one", tt.query, f.Field, len(f.Messages))
					}
				}
				if fe.Error() != fe.Fields[0].Field+": "+fe.Fields[0].Messages[0] || strings.Contains(fe.Error(), `"book"`) || strings.Contains(strings.ToLower(fe.Error()), "from ") {
					t.Errorf("%s: error carries more than its field and message: %v", tt.query, fe)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tt.query, err)
				continue
			}
			if !equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
			}
		}
	})
}

func TestConstructorErrors(t *testing.T) {
	db := dbtest.SQLite(t)
	tb := table(db)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"search", second(filters.NewSearch(tb, []string{"title", "titel"})),
			`cosworth/filters: search field "titel" is not a field of book (fields: id, title, isbn, author, price_cents, in_stock, rating, created_at)`},
		{"search hidden", second(filters.NewSearch(tb, []string{"secret"})), `search field "secret" is not a field of book`},
		{"search prefix", second(filters.NewSearch(tb, []string{"$title"})), `the "$" prefix (full text, regex) is not supported`},
		{"search nil table", second(filters.NewSearch(nil, []string{"title"})), "nil table"},
		{"ordering", second(filters.NewOrdering(tb, []string{"prize"}, nil)), `ordering field "prize" is not a field of book`},
		{"ordering dash", second(filters.NewOrdering(tb, []string{"-title"}, nil)), `list allowed fields without "-"`},
		{"default ordering", second(filters.NewOrdering(tb, []string{"title"}, []string{"-created"})), `default ordering field "created" is not a field of book`},
		{"fields", second(filters.NewFields(tb, []string{"writer"})), `filter field "writer" is not a field of book`},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, tt.err, tt.want)
		}
	}
	type blob struct {
		bun.BaseModel `bun:"table:blobs"`
		ID            int64          `bun:"id,pk"`
		Data          map[string]int `bun:"data" json:"data"`
	}
	_, err := filters.NewFields(db.Table(reflect.TypeFor[blob]()), []string{"data"})
	if err == nil || !strings.Contains(err.Error(), `filter field "data" of blob: type map[string]int cannot be filtered on`) {
		t.Errorf("map field: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

// review embeds models.Base (flattened by bun) and has a models.Date.
type review struct {
	bun.BaseModel `bun:"table:reviews"`
	models.Base
	Title string       `bun:"title,notnull" json:"title"`
	On    *models.Date `bun:"on,type:date" json:"on"`
	Stars int          `bun:"stars,notnull" json:"stars"`
}

func TestEmbeddedBaseAndDate(t *testing.T) {
	for name, open := range dbtest.Dialects(t, (*review)(nil)) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			d1, d2 := models.Date{Year: 2024, Month: 1, Day: 2}, models.Date{Year: 2024, Month: 3, Day: 4}
			rows := []review{{Title: "first", On: &d1, Stars: 5}, {Title: "second", On: &d2, Stars: 3}, {Title: "undated", Stars: 4}}
			for i := range rows {
				rows[i].CreatedAt = t0.Add(time.Duration(i) * time.Minute)
				_, err := db.NewInsert().Model(&rows[i]).Exec(ctx)
				dbtest.Must(t, err, "insert")
			}
			tb := db.Table(reflect.TypeFor[review]())
			run := func(f filters.Filter, query string) ([]string, error) {
				r := httptest.NewRequest(http.MethodGet, "http://h/reviews/?"+query, nil)
				var got []review
				q, err := f.Apply(r, db.NewSelect().Model(&got))
				if err != nil {
					return nil, err
				}
				if _, ok := f.(*filters.Ordering); !ok {
					q = q.OrderExpr("?TableAlias.id")
				}
				dbtest.Must(t, q.Scan(ctx), "scan")
				var titles []string
				for _, r := range got {
					titles = append(titles, r.Title)
				}
				return titles, nil
			}
			o, err := filters.NewOrdering(tb, []string{"created_at", "stars", "on"}, []string{"-created_at"})
			dbtest.Must(t, err, "ordering over Base fields")
			fields, err := filters.NewFields(tb, []string{"on", "id", "created_at"})
			dbtest.Must(t, err, "fields")
			search, err := filters.NewSearch(tb, []string{"title", "on"})
			dbtest.Must(t, err, "search over a date")
			tests := []struct {
				f     filters.Filter
				query string
				want  string
			}{
				{o, "", "undated,second,first"},
				{o, "ordering=created_at", "first,second,undated"},
				{o, "ordering=-stars", "first,undated,second"},
				{fields, "on=2024-03-04", "second"},
				{fields, "id=1", "first"},
				{fields, "on=2024-02-30", `{"on":["Enter a valid date."]}`},
				{fields, "on=someday", `{"on":["Enter a valid date."]}`},
				{search, "search=2024-01", "first"},
				{search, "search=und", "undated"},
			}
			for _, tt := range tests {
				got, err := run(tt.f, tt.query)
				var s string
				if fe, ok := err.(*models.ValidationError); ok {
					s = string(fe.AppendJSON(nil))
				} else if err != nil {
					t.Fatalf("%s: %v", tt.query, err)
				} else {
					s = strings.Join(got, ",")
				}
				if s != tt.want {
					t.Errorf("%s: got %s, want %s", tt.query, s, tt.want)
				}
			}
			_, err = filters.NewSearch(tb, []string{"rating"})
			if err == nil || !strings.Contains(err.Error(), "(fields: id, created_at, updated_at, title, on, stars)") {
				t.Errorf("unknown field error: %v", err)
			}
		})
	}
}

// TestWithJoin applies every filter to a query that joins a relation with
// columns of the same names (id, name): columns are qualified with the
// query's table alias, so nothing is ambiguous.
func TestWithJoin(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB, log *queryLog) {
		tb := table(db)
		search := must(filters.NewSearch(tb, []string{"title", "id"}))
		ordering := must(filters.NewOrdering(tb, []string{"id", "title"}, nil))
		fields := must(filters.NewFields(tb, []string{"author", "id"}))
		r := httptest.NewRequest(http.MethodGet, "http://h/books/?search=o&ordering=-id&author=1&id=8", nil)
		var rows []book
		q := db.NewSelect().Model(&rows).Relation("Author")
		for _, f := range []filters.Filter{fields, search, ordering} {
			var err error
			if q, err = f.Apply(r, q); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.Scan(r.Context()); err != nil {
			t.Fatalf("query with a join: %v", err)
		}
		if len(rows) != 1 || rows[0].ID != 8 || rows[0].Author == nil || rows[0].Author.Name != "Ann" {
			t.Fatalf("rows %+v", rows)
		}
	})
}

// TestApplyDeferred: a generic list view's way of applying Fields. An
// exact foreign key is left pending (no query) and checked by Check, the
// checks of several Fields add up, and with another bad parameter they
// all run at once so that one 400 lists every bad parameter in order.
func TestApplyDeferred(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB, log *queryLog) {
		byAuthor, err := filters.NewFields(table(db), []string{"author"})
		dbtest.Must(t, err, "NewFields")
		byPrice, err := filters.NewFields(table(db), []string{"price_cents__gte"})
		dbtest.Must(t, err, "NewFields")
		apply := func(query string) (filters.PendingKeys, error) {
			var keys filters.PendingKeys
			r := httptest.NewRequest("GET", "/books/?"+query, nil)
			q := db.NewSelect().Model((*book)(nil))
			log.mu.Lock()
			log.queries = nil
			log.mu.Unlock()
			for _, fs := range []*filters.Fields{byAuthor, byPrice} {
				if q, err = fs.ApplyDeferred(r, q, &keys); err != nil {
					return keys, err
				}
			}
			if n := len(log.queries); n != 0 {
				t.Errorf("%s: %d queries while applying, want none: %q", query, n, log.queries)
			}
			return keys, keys.Check(r)
		}
		if keys, err := apply("author=1&price_cents__gte=1"); keys.Len() != 1 || err != nil {
			t.Errorf("an existing author: %d pending, %v", keys.Len(), err)
		}
		const choice = `{"author":["Select a valid choice. That choice is not one of the available choices."]}`
		// The second Fields keeps the first one's pending check.
		if keys, err := apply("author=9&price_cents__gte=1"); keys.Len() != 1 || errJSON(err) != choice {
			t.Errorf("a missing author: %d pending, %s", keys.Len(), errJSON(err))
		}
		var keys filters.PendingKeys
		r := httptest.NewRequest("GET", "/books/?author=9&price_cents__gte=x", nil)
		q, err := byAuthor.ApplyDeferred(r, db.NewSelect().Model((*book)(nil)), &keys)
		dbtest.Must(t, err, "author")
		if _, err = byPrice.ApplyDeferred(r, q, &keys); errJSON(err) != `{"price_cents__gte":["Enter a number."]}` {
			t.Errorf("a bad price: %s", errJSON(err))
		}
		both, err := filters.NewFields(table(db), []string{"author", "price_cents__gte"})
		dbtest.Must(t, err, "NewFields")
		keys = filters.PendingKeys{}
		_, err = both.ApplyDeferred(r, db.NewSelect().Model((*book)(nil)), &keys)
		if want := `{"author":["Select a valid choice. That choice is not one of the available choices."],"price_cents__gte":["Enter a number."]}`; errJSON(err) != want {
			t.Errorf("a missing author and a bad price: %s, want %s", errJSON(err), want)
		}
	})
}

// errJSON is err's body as the views write it: a *models.ValidationError
// as JSON, another error as its text, nil as "".
func errJSON(err error) string {
	var fe *models.ValidationError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &fe):
		return string(fe.AppendJSON(nil))
	}
	return err.Error()
}
