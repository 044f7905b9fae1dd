package views_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

// Writer, Novel and WriterNovels exercise nested representations: a
// novel's writer is a belongs-to relation (joined; on pgx), a writer's
// novels a has-many one (one query per page; on bun).
type Writer struct {
	bun.BaseModel `bun:"table:writers,alias:writer"`
	ID            int64  `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Name          string `bun:",notnull,unique" json:"name" validate:"required,max=50"`
}

type Novel struct {
	bun.BaseModel `bun:"table:novels,alias:novel"`
	ID            int64   `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Title         string  `bun:",notnull" json:"title" validate:"required,max=100"`
	WriterID      int64   `bun:"writer_id,notnull" json:"writer" validate:"required"`
	Writer        *Writer `bun:"rel:belongs-to,join:writer_id=id" json:"-"`
}

type WriterNovels struct {
	bun.BaseModel `bun:"table:writers,alias:writer"`
	ID            int64   `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Name          string  `bun:",notnull,unique" json:"name" validate:"required,max=50"`
	Novels        []Novel `bun:"rel:has-many,join:id=writer_id" json:"-"`
}

var nestedModels = []any{(*Writer)(nil), (*Novel)(nil)}

// mine is a method field: whether the caller is the novel's writer.
var mine = serializers.Method[Novel]{
	Name: "mine",
	Type: reflect.TypeFor[bool](),
	Append: func(ctx context.Context, dst []byte, n *Novel) []byte {
		p := authentication.PrincipalFrom(ctx)
		return strconv.AppendBool(dst, p != nil && n.Writer != nil && p.Username == n.Writer.Name)
	},
}

func novelSerializer() *serializers.Serializer[Novel] {
	return &serializers.Serializer[Novel]{
		Nested:  []serializers.Nested[Novel]{{Name: "writer", Relation: "Writer", Serializer: &serializers.Serializer[Writer]{Fields: []string{"id", "name"}}}},
		Methods: []serializers.Method[Novel]{mine},
	}
}

func writerSerializer() *serializers.Serializer[WriterNovels] {
	return &serializers.Serializer[WriterNovels]{
		Nested: []serializers.Nested[WriterNovels]{{Name: "novels", Relation: "Novels", Serializer: &serializers.Serializer[Novel]{Fields: []string{"id", "title"}}}},
	}
}

func nestedRoutes(db *bun.DB, created *atomic.Int64) http.Handler {
	r := chi.NewRouter()
	r.Use(authentication.Middleware(testAuth{}))
	r.Handle("/novels/", &views.ListCreateView[Novel]{DB: db, Serializer: novelSerializer(), Paginator: pagination.LimitOffset{},
		AllowBulk: true, MaxBulk: 3, OnCommit: func(*http.Request, views.Change, *Novel) { created.Add(1) }})
	r.Handle("/novels/{id}/", &views.RetrieveUpdateDestroyView[Novel]{DB: db, Serializer: novelSerializer()})
	r.Handle("/writers/", &views.ListCreateView[WriterNovels]{DB: db, Serializer: writerSerializer(), Paginator: pagination.LimitOffset{}, AllowBulk: true})
	r.Handle("/slugs/", &views.ListCreateView[Novel]{DB: db, Paginator: pagination.LimitOffset{}, Serializer: &serializers.Serializer[Novel]{
		Slugs: []serializers.Slug{{Name: "writer", Relation: "Writer", Field: "name", Lookup: models.LookupPK[Writer](db, "name")}},
	}})
	r.Handle("/plain/", &views.CreateView[Novel]{DB: db})
	r.Handle("/performed/", &views.CreateView[Novel]{DB: db, Serializer: novelSerializer(), AllowBulk: true,
		PerformCreate: func(r *http.Request, tx bun.Tx, n *Novel) error {
			_, err := tx.NewInsert().Model(n).Exec(r.Context())
			return err
		}})
	return r
}

func seedNovels(t *testing.T, db *bun.DB, n int) {
	t.Helper()
	ctx := context.Background()
	_, err := db.NewInsert().Model(&[]Writer{{Name: "ursula"}, {Name: "iain"}}).Exec(ctx)
	dbtest.Must(t, err, "writers")
	if n == 0 {
		return
	}
	novels := make([]Novel, n)
	for i := range novels {
		novels[i] = Novel{Title: fmt.Sprintf("N%02d", i+1), WriterID: int64(i%2 + 1)}
	}
	_, err = db.NewInsert().Model(&novels).Exec(ctx)
	dbtest.Must(t, err, "novels")
}

// TestNestedRead shows relations through nested serializers, a method
// field and a slug, and refuses nested input no hook takes, on
// PostgreSQL and SQLite.
func TestNestedRead(t *testing.T) {
	for name, open := range dbtest.Dialects(t, nestedModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedNovels(t, db, 3)
			var created atomic.Int64
			h := nestedRoutes(db, &created)
			for _, s := range []step{
				{name: "to-one nested, method field", method: "GET", path: "/novels/?limit=2", hdr: as("ursula"), status: 200,
					want: `{"count":3,"next":"http://example.com/novels/?limit=2&offset=2","previous":null,"results":[` +
						`{"id":1,"title":"N01","writer":{"id":1,"name":"ursula"},"mine":true},` +
						`{"id":2,"title":"N02","writer":{"id":2,"name":"iain"},"mine":false}]}`},
				{name: "detail", method: "GET", path: "/novels/3/", status: 200,
					want: `{"id":3,"title":"N03","writer":{"id":1,"name":"ursula"},"mine":false}`},
				{name: "to-many nested", method: "GET", path: "/writers/", status: 200,
					want: `{"count":2,"next":null,"previous":null,"results":[` +
						`{"id":1,"name":"ursula","novels":[{"id":1,"title":"N01"},{"id":3,"title":"N03"}]},` +
						`{"id":2,"name":"iain","novels":[{"id":2,"title":"N02"}]}]}`},
				{name: "create by pk shows the nested writer", method: "POST", path: "/novels/", body: `{"title":"N04","writer":2}`, hdr: as("iain"), status: 201,
					want: `{"id":4,"title":"N04","writer":{"id":2,"name":"iain"},"mine":true}`},
				{name: "create in a transaction shows the nested writer", method: "POST", path: "/performed/", body: `{"title":"P","writer":1}`, hdr: as("ursula"), status: 201,
					want: `{"id":5,"title":"P","writer":{"id":1,"name":"ursula"},"mine":true}`},
				{name: "bulk create with PerformCreate", method: "POST", path: "/performed/", body: `[{"title":"Q","writer":2},{"title":"R","writer":1}]`, status: 201,
					want: `[{"id":6,"title":"Q","writer":{"id":2,"name":"iain"},"mine":false},{"id":7,"title":"R","writer":{"id":1,"name":"ursula"},"mine":false}]`},
				{name: "update reloads the relation", method: "PATCH", path: "/novels/4/", body: `{"writer":1}`, status: 200,
					want: `{"id":4,"title":"N04","writer":{"id":1,"name":"ursula"},"mine":false}`},
				{name: "nested input on a foreign key", method: "POST", path: "/novels/", body: `{"title":"X","writer":{"id":1,"name":"ursula"}}`, status: 400,
					want: `{"writer":["Nested writes are not supported; send the primary key."]}`},
				{name: "nested input under a name of its own", method: "POST", path: "/writers/", body: `{"name":"ann","novels":[{"title":"Y"}]}`, status: 400,
					want: `{"novels":["Nested writes are not supported."]}`},
				{name: "slug shown", method: "GET", path: "/slugs/?limit=1", status: 200,
					want: `{"count":7,"next":"http://example.com/slugs/?limit=1&offset=1","previous":null,"results":[{"id":1,"title":"N01","writer":"ursula"}]}`},
				{name: "slug written", method: "POST", path: "/slugs/", body: `{"title":"N08","writer":"iain"}`, status: 201,
					want: `{"id":8,"title":"N08","writer":"iain"}`},
				{name: "unknown slug", method: "POST", path: "/slugs/", body: `{"title":"","writer":"nobody"}`, status: 400,
					want: `{"title":["This field may not be blank."],"writer":["Object with name=nobody does not exist."]}`},
				{name: "slug of the wrong type", method: "POST", path: "/slugs/", body: `{"title":"Z","writer":{"name":"iain"}}`, status: 400,
					want: `{"writer":["Invalid value."]}`},
				{name: "slug injection is a value", method: "POST", path: "/slugs/", body: `{"title":"Z","writer":"x' OR '1'='1"}`, status: 400,
					want: `{"writer":["Object with name=x' OR '1'='1 does not exist."]}`},
			} {
				s.run(t, h)
			}
		})
	}
}

// queryCounter counts the queries a database runs: as a pgx tracer on
// PostgreSQL (it sees the views' pgx fast path and bun's queries alike)
// and as a bun query hook on SQLite.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *queryCounter) AfterQuery(context.Context, *bun.QueryEvent) {}

// countedDialects opens PostgreSQL and SQLite databases with the given
// models' tables and a counter of every query they run.
func countedDialects(modelsToCreate ...any) map[string]func(t *testing.T) (*bun.DB, *queryCounter) {
	return map[string]func(t *testing.T) (*bun.DB, *queryCounter){
		"postgres": func(t *testing.T) (*bun.DB, *queryCounter) {
			c := &queryCounter{}
			dsn, _ := dbtest.PostgresSchemaURL(t)
			db, err := models.Open(t.Context(), dsn, models.WithTracer(c))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			dbtest.Must(t, models.CreateTables(t.Context(), db, modelsToCreate...), "tables")
			return db, c
		},
		"sqlite": func(t *testing.T) (*bun.DB, *queryCounter) {
			c := &queryCounter{}
			return dbtest.SQLite(t, modelsToCreate...).WithQueryHook(c), c
		},
	}
}

// pageQueries returns the number of queries of GET path+size for each size.
func pageQueries(t *testing.T, h http.Handler, c *queryCounter, path string, sizes ...int) []int64 {
	t.Helper()
	var counts []int64
	for _, size := range sizes {
		before := c.n.Load()
		w := do(h, "GET", path+strconv.Itoa(size), "")
		if w.Code != 200 {
			t.Fatalf("%s%d: %d %s", path, size, w.Code, w.Body)
		}
		counts = append(counts, c.n.Load()-before)
	}
	return counts
}

// TestNestedQueriesConstant asserts that a nested list read makes the
// same number of queries whatever its page size: no query per row.
func TestNestedQueriesConstant(t *testing.T) {
	for name, open := range countedDialects(nestedModels...) {
		t.Run(name, func(t *testing.T) {
			db, c := open(t)
			seedNovels(t, db, 12)
			var created atomic.Int64
			h := nestedRoutes(db, &created)
			for _, path := range []string{"/novels/?limit=", "/writers/?limit="} {
				counts := pageQueries(t, h, c, path, 1, 2, 10)
				// A count and a page, plus one query per to-many relation.
				want := int64(2)
				if strings.HasPrefix(path, "/writers/") {
					want = 3
				}
				for _, n := range counts {
					if n != want {
						t.Fatalf("%s: queries for page sizes 1, 2, 10: %v; want %d each", path, counts, want)
					}
				}
			}
		})
	}
}

// TestBulkCreate creates lists of objects all or nothing, on PostgreSQL
// and SQLite.
func TestBulkCreate(t *testing.T) {
	for name, open := range dbtest.Dialects(t, nestedModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedNovels(t, db, 0)
			var created atomic.Int64
			h := nestedRoutes(db, &created)
			count := func() int {
				n, err := db.NewSelect().Model((*Novel)(nil)).Count(t.Context())
				dbtest.Must(t, err, "count")
				return int(n)
			}
			for _, s := range []step{
				{name: "two", method: "POST", path: "/novels/", body: `[{"title":"A","writer":1},{"title":"B","writer":2}]`, hdr: as("iain"), status: 201,
					want: `[{"id":1,"title":"A","writer":{"id":1,"name":"ursula"},"mine":false},{"id":2,"title":"B","writer":{"id":2,"name":"iain"},"mine":true}]`},
				{name: "one invalid item: nothing", method: "POST", path: "/novels/", body: `[{"title":"C","writer":1},{"writer":1},{"title":"","writer":"x"}]`, status: 400,
					want: `[{},{"title":["This field is required."]},{"title":["This field may not be blank."],"writer":["Incorrect type. Expected pk value, received str."]}]`},
				{name: "over the bound", method: "POST", path: "/novels/", body: `[{},{},{},{}]`, status: 400,
					want: `{"non_field_errors":["Ensure this field has no more than 3 elements."]}`},
				{name: "empty", method: "POST", path: "/novels/", body: `[]`, status: 201, want: `[]`},
				{name: "not a list of objects", method: "POST", path: "/novels/", body: `[1]`, status: 400,
					want: `[{"non_field_errors":["Invalid data. Expected a dictionary, but got int."]}]`},
				{name: "malformed", method: "POST", path: "/novels/", body: `[{"title":"A"},`, status: 400,
					wantPrefix: `{"detail":"JSON parse error - `},
				{name: "bulk off", method: "POST", path: "/plain/", body: `[{"title":"A","writer":1}]`, status: 400,
					want: `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
			} {
				s.run(t, h)
			}
			if n := count(); n != 2 {
				t.Fatalf("%d novels, want 2", n)
			}
			if n := created.Load(); n != 2 {
				t.Fatalf("OnCommit ran %d times, want 2", n)
			}
			// A unique violation the database catches rolls every row back.
			w := do(h, "POST", "/writers/", `[{"name":"ann"},{"name":"ursula"}]`)
			if w.Code != 400 || !strings.Contains(w.Body.String(), "already exists") {
				t.Fatalf("duplicate in bulk: %d %s", w.Code, w.Body)
			}
			if n, _ := db.NewSelect().Model((*Writer)(nil)).Where("name = 'ann'").Count(t.Context()); n != 0 {
				t.Fatalf("ann was created by a failed bulk create")
			}
		})
	}
}

// TestListAllocsMethodField measures the allocations of a whole list
// request (10 rows from PostgreSQL) with and without a method field, and
// of a nested to-one list: a method field whose Append does not allocate
// adds none.
func TestListAllocsMethodField(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; scripts/test.sh runs this without -race")
	}
	db := dbtest.Postgres(t, nestedModels...)
	seedNovels(t, db, 20)
	plain := &views.ListView[Novel]{DB: db, Paginator: pagination.LimitOffset{}}
	method := &views.ListView[Novel]{DB: db, Paginator: pagination.LimitOffset{}, Serializer: &serializers.Serializer[Novel]{
		Methods: []serializers.Method[Novel]{{Name: "short", Type: reflect.TypeFor[bool](),
			Append: func(_ context.Context, dst []byte, n *Novel) []byte { return strconv.AppendBool(dst, len(n.Title) < 4) }}},
	}}
	nested := &views.ListView[Novel]{DB: db, Paginator: pagination.LimitOffset{}, Serializer: &serializers.Serializer[Novel]{
		Nested: []serializers.Nested[Novel]{{Name: "writer", Relation: "Writer", Serializer: &serializers.Serializer[Writer]{}}},
	}}
	measure := func(h http.Handler) float64 {
		r := httptest.NewRequest(http.MethodGet, "/novels/?limit=10&offset=5", nil)
		serve(t, h, r) // warm: plans, prepared statements, pools
		return testing.AllocsPerRun(50, func() { serve(t, h, r) })
	}
	a, b, c := measure(plain), measure(method), measure(nested)
	t.Logf("allocs per list request of 10 rows: plain %v, with a method field %v, with a nested to-one writer %v", a, b, c)
	if b > a {
		t.Errorf("a method field added %v allocations to a list request", b-a)
	}
}

// Tag, NovelTag and TaggedNovel are a many-to-many relation.
type Tag struct {
	bun.BaseModel `bun:"table:tags,alias:tag"`
	ID            int64  `bun:",pk,autoincrement" json:"id"`
	Label         string `bun:",notnull" json:"label"`
}

type NovelTag struct {
	bun.BaseModel `bun:"table:novel_tags,alias:nt"`
	NovelID       int64        `bun:",pk"`
	Novel         *TaggedNovel `bun:"rel:belongs-to,join:novel_id=id"`
	TagID         int64        `bun:",pk"`
	Tag           *Tag         `bun:"rel:belongs-to,join:tag_id=id"`
}

type TaggedNovel struct {
	bun.BaseModel `bun:"table:novels,alias:novel"`
	ID            int64  `bun:",pk,autoincrement" json:"id"`
	Title         string `bun:",notnull" json:"title"`
	Tags          []Tag  `bun:"m2m:novel_tags,join:Novel=Tag" json:"-"`
}

// TestNestedManyToMany shows a many-to-many relation as an array, with a
// constant number of queries per page.
func TestNestedManyToMany(t *testing.T) {
	for name, open := range countedDialects(append(nestedModels, (*Tag)(nil))...) {
		t.Run(name, func(t *testing.T) {
			db, c := open(t)
			ctx := t.Context()
			db.RegisterModel((*NovelTag)(nil))
			dbtest.Must(t, models.CreateTables(ctx, db, (*NovelTag)(nil)), "join table")
			seedNovels(t, db, 6)
			_, err := db.NewInsert().Model(&[]Tag{{Label: "sf"}, {Label: "classic"}}).Exec(ctx)
			dbtest.Must(t, err, "tags")
			_, err = db.NewInsert().Model(&[]NovelTag{{NovelID: 1, TagID: 1}, {NovelID: 2, TagID: 2}, {NovelID: 5, TagID: 1}, {NovelID: 5, TagID: 2}}).Exec(ctx)
			dbtest.Must(t, err, "novel tags")
			h := chi.NewRouter()
			h.Handle("/tagged/", &views.ListView[TaggedNovel]{DB: db, Paginator: pagination.LimitOffset{}, Serializer: &serializers.Serializer[TaggedNovel]{
				Nested: []serializers.Nested[TaggedNovel]{{Name: "tags", Relation: "Tags", Serializer: &serializers.Serializer[Tag]{Fields: []string{"label"}}}},
			}})
			step{name: "m2m", method: "GET", path: "/tagged/?limit=3", status: 200,
				want: `{"count":6,"next":"http://example.com/tagged/?limit=3&offset=3","previous":null,"results":[` +
					`{"id":1,"title":"N01","tags":[{"label":"sf"}]},{"id":2,"title":"N02","tags":[{"label":"classic"}]},{"id":3,"title":"N03","tags":[]}]}`,
			}.run(t, h)
			counts := pageQueries(t, h, c, "/tagged/?limit=", 1, 3, 6)
			for _, n := range counts {
				if n != 3 {
					t.Fatalf("queries for page sizes 1, 3, 6: %v; want 3 each (count, page, tags)", counts)
				}
			}
		})
	}
}

// ShelvedNovel's writer is shown with the writer's novels: a nested
// serializer inside a nested serializer, loaded as "Writer.Novels".
type ShelvedNovel struct {
	bun.BaseModel `bun:"table:novels,alias:novel"`
	ID            int64         `bun:",pk,autoincrement" json:"id"`
	Title         string        `bun:",notnull" json:"title"`
	WriterID      int64         `bun:"writer_id,notnull" json:"writer"`
	Writer        *WriterNovels `bun:"rel:belongs-to,join:writer_id=id" json:"-"`
}

// TestNestedTwoLevels loads a relation of a relation with one query per
// page, on PostgreSQL and SQLite.
func TestNestedTwoLevels(t *testing.T) {
	for name, open := range countedDialects(nestedModels...) {
		t.Run(name, func(t *testing.T) {
			db, c := open(t)
			seedNovels(t, db, 5)
			h := chi.NewRouter()
			h.Handle("/shelved/", &views.ListView[ShelvedNovel]{DB: db, Paginator: pagination.LimitOffset{}, Serializer: &serializers.Serializer[ShelvedNovel]{
				Fields: []string{"id", "title"},
				Nested: []serializers.Nested[ShelvedNovel]{{Name: "writer", Relation: "Writer", Serializer: writerSerializer()}},
			}})
			step{name: "two levels", method: "GET", path: "/shelved/?limit=2", status: 200,
				want: `{"count":5,"next":"http://example.com/shelved/?limit=2&offset=2","previous":null,"results":[` +
					`{"id":1,"title":"N01","writer":{"id":1,"name":"ursula","novels":[{"id":1,"title":"N01"},{"id":3,"title":"N03"},{"id":5,"title":"N05"}]}},` +
					`{"id":2,"title":"N02","writer":{"id":2,"name":"iain","novels":[{"id":2,"title":"N02"},{"id":4,"title":"N04"}]}}]}`,
			}.run(t, h)
			counts := pageQueries(t, h, c, "/shelved/?limit=", 1, 2, 5)
			for _, n := range counts {
				if n != 3 {
					t.Fatalf("queries for page sizes 1, 2, 5: %v; want 3 each (count, page with writers, their novels)", counts)
				}
			}
		})
	}
}

// Penname and Signed: a slug whose related table holds a column the slug
// does not show.
type Penname struct {
	bun.BaseModel `bun:"table:pennames,alias:penname"`
	ID            int64  `bun:",pk,autoincrement" json:"id"`
	Name          string `bun:",notnull,unique" json:"name"`
	Secret        string `bun:",notnull" json:"-"`
}

type Signed struct {
	bun.BaseModel `bun:"table:signed,alias:signed"`
	ID            int64    `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Title         string   `bun:",notnull" json:"title"`
	PennameID     int64    `bun:"penname_id,notnull" json:"penname" cosworth:"read_only"`
	Penname       *Penname `bun:"rel:belongs-to,join:penname_id=id" json:"-"`
}

// queryTexts records the SQL a database runs, as queryCounter counts it.
type queryTexts struct {
	mu  sync.Mutex
	sql []string
}

func (c *queryTexts) add(s string) { c.mu.Lock(); c.sql = append(c.sql, s); c.mu.Unlock() }
func (c *queryTexts) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.add(d.SQL)
	return ctx
}
func (c *queryTexts) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *queryTexts) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	c.add(e.Query)
	return ctx
}
func (c *queryTexts) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestSlugColumns: the views join a read-only slug's relation for its
// key and shown field only, never the related table's other columns,
// on every read: list, detail, and the reads of an update in place and
// of an update that checks If-Match first.
func TestSlugColumns(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) (*bun.DB, *queryTexts){
		"postgres": func(t *testing.T) (*bun.DB, *queryTexts) {
			c := &queryTexts{}
			dsn, _ := dbtest.PostgresSchemaURL(t)
			db, err := models.Open(t.Context(), dsn, models.WithTracer(c))
			dbtest.Must(t, err, "open")
			t.Cleanup(func() { _ = db.Close() })
			dbtest.Must(t, models.CreateTables(t.Context(), db, (*Penname)(nil), (*Signed)(nil)), "tables")
			return db, c
		},
		"sqlite": func(t *testing.T) (*bun.DB, *queryTexts) {
			c := &queryTexts{}
			return dbtest.SQLite(t, (*Penname)(nil), (*Signed)(nil)).WithQueryHook(c), c
		},
	} {
		t.Run(name, func(t *testing.T) {
			db, texts := open(t)
			_, err := db.NewInsert().Model(&Penname{Name: "ellis", Secret: "hidden"}).Exec(t.Context())
			dbtest.Must(t, err, "penname")
			_, err = db.NewInsert().Model(&Signed{Title: "A", PennameID: 1}).Exec(t.Context())
			dbtest.Must(t, err, "signed")
			texts.mu.Lock()
			texts.sql = nil // the views' queries only
			texts.mu.Unlock()
			ser := &serializers.Serializer[Signed]{Slugs: []serializers.Slug{{Name: "penname", Relation: "Penname", Field: "name"}}}
			r := chi.NewRouter()
			r.Handle("/signed/", &views.ListView[Signed]{DB: db, Serializer: ser})
			r.Handle("/signed/{id}/", &views.RetrieveUpdateView[Signed]{DB: db, Serializer: ser})
			etag := do(r, "GET", "/signed/1/", "").Header().Get("ETag")
			for _, s := range []step{
				{name: "list", method: "GET", path: "/signed/", status: 200, want: `[{"id":1,"title":"A","penname":"ellis"}]`},
				{name: "detail", method: "GET", path: "/signed/1/", status: 200, want: `{"id":1,"title":"A","penname":"ellis"}`},
				{name: "update in place", method: "PATCH", path: "/signed/1/", body: `{"title":"B","penname":"x"}`, status: 200, want: `{"id":1,"title":"B","penname":"ellis"}`},
				{name: "update after If-Match", method: "PATCH", path: "/signed/1/", body: `{"title":"C"}`, hdr: []string{"If-Match", etag}, status: 412},
			} {
				s.run(t, r)
			}
			etag = do(r, "GET", "/signed/1/", "").Header().Get("ETag")
			step{name: "update after a matching If-Match", method: "PATCH", path: "/signed/1/", body: `{"title":"C"}`, hdr: []string{"If-Match", etag}, status: 200,
				want: `{"id":1,"title":"C","penname":"ellis"}`}.run(t, r)
			texts.mu.Lock()
			defer texts.mu.Unlock()
			joined := 0
			for _, q := range texts.sql {
				if strings.Contains(q, "secret") {
					t.Errorf("a query selects the related table's other column: %s", q)
				}
				if strings.Contains(q, "JOIN") {
					joined++
				}
			}
			if joined == 0 {
				t.Fatalf("no query joined the relation: %q", texts.sql)
			}
		})
	}
}
