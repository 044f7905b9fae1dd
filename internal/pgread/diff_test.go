package pgread_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/pgread"
	"github.com/cosworth/cosworth/models"
)

// The differential test: every query shape of the models below runs
// through pgread and through bun on the same PostgreSQL data, and the
// results are compared field by field. It guards pgread's scanning (the
// unsafe stores of scan.go) and its choice of what to run on pgx: a shape
// that should run on pgx and goes to bun, or the reverse, fails too, so
// the comparison is never bun against bun by accident.

// Scalar has a column of every Go type pgread scans itself, NULL in some
// rows: NULL is the zero value of a plain field and nil for a pointer.
type Scalar struct {
	bun.BaseModel `bun:"table:scalars,alias:scalar"`
	models.Base

	I    int         `bun:"i"`
	I8   int8        `bun:"i8"`
	I16  int16       `bun:"i16"`
	I32  int32       `bun:"i32"`
	I64  int64       `bun:"i64"`
	U    uint        `bun:"u"`
	U8   uint8       `bun:"u8"`
	U16  uint16      `bun:"u16,type:integer"`
	U32  uint32      `bun:"u32,type:bigint"`
	U64  uint64      `bun:"u64"`
	F32  float32     `bun:"f32"`
	F64  float64     `bun:"f64"`
	B    bool        `bun:"b"`
	S    string      `bun:"s"`
	VC   string      `bun:"vc,type:varchar(20)"`
	At   time.Time   `bun:"at"` // timestamptz
	Wall time.Time   `bun:"wall,type:timestamp"`
	Day  models.Date `bun:"day,type:date"`

	PS   *string      `bun:"ps"`
	PI   *int64       `bun:"pi"`
	PI16 *int16       `bun:"pi16"`
	PB   *bool        `bun:"pb"`
	PF   *float64     `bun:"pf"`
	PAt  *time.Time   `bun:"pat"`
	PW   *time.Time   `bun:"pw,type:timestamp"`
	PDay *models.Date `bun:"pday,type:date"`
}

// Odd has the field types pgread leaves to bun ([]byte, sql.Null*, JSON):
// a query selecting one of them runs on bun; one selecting only the
// others runs on pgx.
type Odd struct {
	bun.BaseModel `bun:"table:odds,alias:odd"`

	ID   int64           `bun:"id,pk,autoincrement"`
	Name string          `bun:"name"`
	Raw  []byte          `bun:"raw"`
	NS   sql.NullString  `bun:"ns"`
	NI   sql.NullInt64   `bun:"ni"`
	NB   sql.NullBool    `bun:"nb"`
	NF   sql.NullFloat64 `bun:"nf"`
	NT   sql.NullTime    `bun:"nt"`
	Meta map[string]any  `bun:"meta,type:jsonb"`
}

// Person is what an Article belongs to.
type Person struct {
	bun.BaseModel `bun:"table:people,alias:person"`

	ID    int64        `bun:"id,pk,autoincrement"`
	Name  string       `bun:"name"`
	Email *string      `bun:"email"`
	Born  *models.Date `bun:"born,type:date"`
	Score float64      `bun:"score"`
	Seen  time.Time    `bun:"seen"`
}

// Detail is an Article's has-one relation.
type Detail struct {
	bun.BaseModel `bun:"table:details,alias:detail"`

	ID        int64   `bun:"id,pk,autoincrement"`
	ArticleID int64   `bun:"article_id"`
	Body      *string `bun:"body"`
	Words     int32   `bun:"words"`
}

// Article joins belongs-to relations (a pointer and a struct) and a
// has-one relation; a query may join none, some or all of them.
type Article struct {
	bun.BaseModel `bun:"table:articles,alias:article"`
	models.Base

	Title    string  `bun:"title"`
	AuthorID *int64  `bun:"author_id"`
	EditorID int64   `bun:"editor_id"`
	Author   *Person `bun:"rel:belongs-to,join:author_id=id"`
	Editor   Person  `bun:"rel:belongs-to,join:editor_id=id"`
	Detail   *Detail `bun:"rel:has-one,join:id=article_id"`
}

// Shelf has a has-many relation, which bun loads with a query of its
// own: all of its queries run on bun, joined or not.
type Shelf struct {
	bun.BaseModel `bun:"table:shelves,alias:shelf"`

	ID    int64     `bun:"id,pk,autoincrement"`
	Label string    `bun:"label"`
	Items []*Detail `bun:"rel:has-many,join:id=article_id"`
}

// Pick belongs to a Shelf: a query may join Shelf, then Shelf's has-many
// (Relation("Shelf.Items")), which the SQL text does not show. So its
// queries run on bun too.
type Pick struct {
	bun.BaseModel `bun:"table:picks,alias:pick"`

	ID      int64  `bun:"id,pk,autoincrement"`
	ShelfID int64  `bun:"shelf_id"`
	Shelf   *Shelf `bun:"rel:belongs-to,join:shelf_id=id"`
}

func seedDiff(t *testing.T, db *bun.DB) {
	t.Helper()
	ctx := context.Background()
	for _, m := range []any{(*Scalar)(nil), (*Odd)(nil), (*Person)(nil), (*Detail)(nil), (*Article)(nil), (*Shelf)(nil), (*Pick)(nil)} {
		_, err := db.NewCreateTable().Model(m).Exec(ctx) // no foreign keys: orphans on purpose
		dbtest.Must(t, err, "create %T", m)
	}
	str, i64, i16, yes, f := "ünïcode 'quoted' \"x\"", int64(math.MinInt64), int16(-32768), false, math.Copysign(0, -1)
	at := time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.FixedZone("x", -7*3600))
	wall := time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)
	day := models.Date{Year: 1900, Month: 3, Day: 1}
	scalars := []Scalar{
		{I: math.MaxInt, I8: math.MinInt8, I16: math.MaxInt16, I32: math.MinInt32, I64: math.MaxInt64,
			U: math.MaxInt, U8: math.MaxUint8, U16: math.MaxUint16, U32: math.MaxUint32, U64: math.MaxInt64,
			F32: math.MaxFloat32, F64: math.SmallestNonzeroFloat64, B: true, S: "plain", VC: "varchar",
			At: at, Wall: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), Day: models.Date{Year: 2024, Month: 2, Day: 29},
			PS: &str, PI: &i64, PI16: &i16, PB: &yes, PF: &f, PAt: &at, PW: &wall, PDay: &day},
		{I: -1, I8: 1, S: "", F64: math.Inf(-1), F32: float32(math.Inf(1)), At: time.Unix(0, 0).UTC(), Wall: time.Unix(1, 0).UTC(), Day: models.Date{Year: 1970, Month: 1, Day: 1}},
		{S: "nan", F64: math.NaN(), At: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for i := range 7 {
		scalars = append(scalars, Scalar{I: i, I32: int32(10 - i), S: fmt.Sprintf("row %c", 'a'+i), B: i%2 == 0, F32: float32(i) / 3,
			At: time.Unix(int64(i)*86400, 0).UTC(), Day: models.Date{Year: 2020 + i, Month: 12, Day: 31}})
	}
	_, err := db.NewInsert().Model(&scalars).Exec(ctx)
	dbtest.Must(t, err, "scalars")
	// NULLs in plain columns: bun scans them as zero values.
	_, err = db.NewRaw("UPDATE scalars SET i = NULL, i8 = NULL, u64 = NULL, f32 = NULL, b = NULL, s = NULL, vc = NULL, at = NULL, wall = NULL, day = NULL WHERE id IN (3, 5)").Exec(ctx)
	dbtest.Must(t, err, "null scalars")

	odds := []Odd{
		{Name: "full", Raw: []byte{0, 1, 0xff}, NS: sql.NullString{String: "s", Valid: true}, NI: sql.NullInt64{Int64: -3, Valid: true},
			NB: sql.NullBool{Bool: true, Valid: true}, NF: sql.NullFloat64{Float64: 2.5, Valid: true}, NT: sql.NullTime{Time: at.UTC(), Valid: true}, Meta: map[string]any{"a": 1.0}},
		{Name: "empty", Raw: []byte{}},
		{Name: "nulls"},
	}
	_, err = db.NewInsert().Model(&odds).Exec(ctx)
	dbtest.Must(t, err, "odds")
	_, err = db.NewRaw("UPDATE odds SET raw = NULL, name = NULL WHERE id = 3").Exec(ctx)
	dbtest.Must(t, err, "null odds")

	email, born := "p@example.com", models.Date{Year: 1999, Month: 12, Day: 31}
	people := []Person{{Name: "ann", Email: &email, Born: &born, Score: 1.5, Seen: at}, {Name: "bob"}}
	_, err = db.NewInsert().Model(&people).Exec(ctx)
	dbtest.Must(t, err, "people")
	_, err = db.NewRaw("UPDATE people SET name = NULL, seen = NULL WHERE id = 2").Exec(ctx)
	dbtest.Must(t, err, "null person")
	p1, p2, p9 := int64(1), int64(2), int64(9)
	articles := []Article{
		{Title: "both", AuthorID: &p1, EditorID: 2}, {Title: "sparse author", AuthorID: &p2, EditorID: 1},
		{Title: "orphan", AuthorID: &p9, EditorID: 9}, {Title: "anonymous"}, {Title: "again", AuthorID: &p1, EditorID: 1},
	}
	_, err = db.NewInsert().Model(&articles).Exec(ctx)
	dbtest.Must(t, err, "articles")
	body := "body"
	_, err = db.NewInsert().Model(&[]Detail{{ArticleID: 1, Body: &body, Words: 2}, {ArticleID: 2}, {ArticleID: 5, Words: -1}}).Exec(ctx)
	dbtest.Must(t, err, "details")
	_, err = db.NewRaw("UPDATE details SET words = NULL WHERE article_id = 2").Exec(ctx)
	dbtest.Must(t, err, "null detail")
	_, err = db.NewInsert().Model(&[]Shelf{{Label: "s1"}, {Label: "s2"}}).Exec(ctx)
	dbtest.Must(t, err, "shelves")
	_, err = db.NewInsert().Model(&[]Pick{{ShelfID: 1}, {ShelfID: 2}, {ShelfID: 3}}).Exec(ctx)
	dbtest.Must(t, err, "picks")
}

type shapeFn func(*bun.SelectQuery) *bun.SelectQuery

// diffShape is a query shape of one model, and whether pgread must run it
// on pgx (direct) or leave it to bun.
type diffShape struct {
	name   string
	q      shapeFn
	direct bool
	count  bool // compare the count too (bun cannot count every shape)
}

// TestDifferential runs every shape through bun and pgread (Scan of a
// slice, ScanWindow, Scan of each object, Count, a Session running a count
// then a window, Prepare for the objects) and compares the results field
// by field.
func TestDifferential(t *testing.T) {
	db := dbtest.Postgres(t)
	seedDiff(t, db)
	order := func(col string) shapeFn {
		return func(q *bun.SelectQuery) *bun.SelectQuery { return q.OrderExpr(col + " ASC") }
	}

	t.Run("Scalar", func(t *testing.T) {
		runShapes[Scalar](t, db, "scalar", []diffShape{
			{"all", order("scalar.id"), true, true},
			{"where args", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Where("?TableAlias.i32 >= ?", pgread.Arg(int32(5))).Where("?TableAlias.b = ?", pgread.Arg(true)).
					Where("?TableAlias.at > ?", pgread.Arg(time.Unix(0, 0))).OrderExpr("scalar.i32 DESC, scalar.id")
			}, true, true},
			{"inline literals", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Where("s LIKE ?", "row%").Where("f32 < ?", 2.0).Order("id")
			}, true, true},
			{"null filter and search", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
					return q.Where("?TableAlias.s IS NULL").WhereOr("?TableAlias.s ILIKE ? ESCAPE '\\'", pgread.Arg("%ROW%"))
				}).OrderExpr("scalar.s DESC NULLS LAST, scalar.id")
			}, true, true},
			{"some columns", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Column("id", "s", "pday", "pat", "u64").Order("id")
			}, true, true},
			{"excluded columns", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.ExcludeColumn("created_at", "wall").Order("id")
			}, true, true},
			{"column expression", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.ColumnExpr("id, upper(s) AS s").Order("id")
			}, false, true},
			{"distinct", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Distinct().Order("id") }, false, false},
			{"group by", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Column("b").ColumnExpr("count(*) AS i").Group("b").Order("b")
			}, false, false},
		})
	})
	t.Run("Odd", func(t *testing.T) {
		runShapes[Odd](t, db, "odd", []diffShape{
			{"all", order("odd.id"), false, true},
			{"bytes", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Column("id", "raw").Order("id") }, false, true},
			{"null types", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Column("id", "ns", "ni", "nb", "nf", "nt").Order("id")
			}, false, true},
			{"plain columns", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Column("id", "name").Order("id") }, true, true},
		})
	})
	t.Run("Article", func(t *testing.T) {
		runShapes[Article](t, db, "article", []diffShape{
			{"unjoined", order("article.id"), true, true},
			{"belongs-to", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Relation("Author").Order("article.id") }, true, true},
			{"struct belongs-to", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Relation("Editor").Order("article.id") }, true, true},
			{"has-one", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Relation("Detail").Order("article.id") }, true, true},
			{"all joined, filtered", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Relation("Author").Relation("Editor").Relation("Detail").
					Where("?TableAlias.title <> ?", pgread.Arg("x")).OrderExpr("article.title DESC")
			}, true, true},
			{"joined columns", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Relation("Author", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Column("id", "born") }).
					Column("id", "title", "author_id").Order("article.id")
			}, true, true},
			{"filter on a relation", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Relation("Author").Where("author.name = ?", pgread.Arg("ann")).Order("article.id")
			}, true, true},
		})
	})
	t.Run("Shelf", func(t *testing.T) {
		runShapes[Shelf](t, db, "shelf", []diffShape{
			{"unjoined", order("shelf.id"), false, true},
			{"has-many", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Relation("Items").Order("shelf.id") }, false, true},
		})
	})
	t.Run("Pick", func(t *testing.T) {
		runShapes[Pick](t, db, "pick", []diffShape{
			{"belongs-to", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Relation("Shelf").Order("pick.id") }, false, true},
			{"belongs-to, then has-many", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Relation("Shelf.Items").Order("pick.id")
			}, false, true},
		})
	})
}

func runShapes[T any](t *testing.T, db *bun.DB, alias string, shapes []diffShape) {
	ctx := context.Background()
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			// Check which engine ran: bun counts its queries, pgread's
			// do not go through it.
			check := func(what string, n uint32) {
				t.Helper()
				if ranOnPgx := queries(db) == n; ranOnPgx != s.direct {
					t.Fatalf("%s ran on pgx: %v, want %v", what, ranOnPgx, s.direct)
				}
			}
			var want, got []T
			dbtest.Must(t, s.q(db.NewSelect().Model(&want)).Scan(ctx), "bun")
			if len(want) == 0 {
				t.Fatal("bun found no rows: the comparison is void")
			}
			n := queries(db)
			dbtest.Must(t, pgread.Scan(ctx, s.q(db.NewSelect().Model(&got)), &got), "pgread")
			check("Scan", n)
			compare(t, "rows", got, want)

			// A window, into slices that held the rows above (equal, so
			// bun and pgread start from the same state): truncated first,
			// as bun does.
			wantPage := want
			dbtest.Must(t, s.q(db.NewSelect().Model(&wantPage)).Limit(2).Offset(1).Scan(ctx), "bun window")
			page := got
			n = queries(db)
			dbtest.Must(t, pgread.ScanWindow(ctx, s.q(db.NewSelect().Model(&page)), &page, 2, 1), "pgread window")
			check("ScanWindow", n)
			compare(t, "window", page, wantPage)

			if s.count {
				wantN, err := s.q(db.NewSelect().Model((*T)(nil))).Count(ctx)
				dbtest.Must(t, err, "bun count")
				gotN, err := pgread.Count(ctx, s.q(db.NewSelect().Model((*T)(nil))))
				if err != nil || gotN != wantN {
					t.Fatalf("count %d, %v; bun counts %d", gotN, err, wantN)
				}
				// One session: the count, then a window, into a new slice.
				var sess pgread.Session
				var rows, wantRows []T
				dbtest.Must(t, s.q(db.NewSelect().Model(&wantRows)).Limit(2).Offset(1).Scan(ctx), "bun window")
				gotN, err = sess.Count(ctx, s.q(db.NewSelect().Model((*T)(nil))))
				if err == nil {
					err = sess.ScanWindow(ctx, s.q(db.NewSelect().Model(&rows)), &rows, 2, 1)
				}
				sess.Close()
				if err != nil || gotN != wantN {
					t.Fatalf("session: count %d, %v; bun counts %d", gotN, err, wantN)
				}
				compare(t, "session window", rows, wantRows)
			}

			// Each object, and one that does not exist.
			for i := range want {
				id := reflect.ValueOf(want[i]).FieldByName("ID").Int()
				if id == 0 {
					continue // not selected
				}
				where := func(q *bun.SelectQuery, v any) *bun.SelectQuery { return q.Where("?TableAlias.id = ?", v).Limit(1) }
				var wantOne, one T
				dbtest.Must(t, where(s.q(db.NewSelect().Model(&wantOne)), id).Scan(ctx), "bun object")
				n := queries(db)
				dbtest.Must(t, pgread.Scan(ctx, where(s.q(db.NewSelect().Model(&one)), pgread.Int64(id)), &one), "pgread object")
				check("Scan of an object", n)
				compare(t, fmt.Sprintf("object %d", id), one, wantOne)

				// Into a struct that holds another row (two copies made
				// by bun, so they share no pointer): scanned over, as bun
				// does.
				other := reflect.ValueOf(want[(i+1)%len(want)]).FieldByName("ID").Int()
				var staleWant, staleGot T
				dbtest.Must(t, where(s.q(db.NewSelect().Model(&staleWant)), other).Scan(ctx), "bun other object")
				dbtest.Must(t, where(s.q(db.NewSelect().Model(&staleGot)), other).Scan(ctx), "bun other object")
				dbtest.Must(t, where(s.q(db.NewSelect().Model(&staleWant)), id).Scan(ctx), "bun over another object")
				dbtest.Must(t, pgread.Scan(ctx, where(s.q(db.NewSelect().Model(&staleGot)), pgread.Int64(id)), &staleGot), "pgread over another object")
				compare(t, fmt.Sprintf("object %d over object %d", id, other), staleGot, staleWant)

				if st := pgread.Prepare(where(s.q(db.NewSelect().Model((*T)(nil))), pgread.Int64(0)), new(T), 1); st != nil {
					if !s.direct {
						t.Fatal("Prepare accepted a shape bun must run")
					}
					var prepared T
					handled, err := st.Scan(ctx, db, &prepared, pgread.Int64(id))
					if !handled || err != nil {
						t.Fatalf("statement: handled %v, %v", handled, err)
					}
					compare(t, fmt.Sprintf("prepared object %d", id), prepared, wantOne)
				}
			}
			var missing T
			err := pgread.Scan(ctx, s.q(db.NewSelect().Model(&missing)).Where(alias+".id = ?", pgread.Int64(1<<40)).Limit(1), &missing)
			if !strings.Contains(models.Classify(err).Error(), "not found") {
				t.Fatalf("missing object: %v, want one wrapping sql.ErrNoRows", err)
			}
		})
	}
}

// compare fails t at the first field where got and want differ.
func compare(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := diff("", reflect.ValueOf(got), reflect.ValueOf(want)); d != "" {
		t.Fatalf("%s: pgread and bun differ at %s", what, d)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// diff returns where a and b first differ, "" when they are equal: times
// must be the same instant at the same UTC offset (what JSON shows),
// floats the same bits (NaN equals NaN, -0 differs from 0), pointers both
// nil or pointing to equal values, slices nil in both or equal.
func diff(path string, a, b reflect.Value) string {
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: types %s and %s", path, a.Type(), b.Type())
	}
	if a.Type() == timeType {
		ta, tb := a.Interface().(time.Time), b.Interface().(time.Time)
		_, oa := ta.Zone()
		_, ob := tb.Zone()
		if !ta.Equal(tb) || oa != ob {
			return fmt.Sprintf("%s: %v and %v", path, ta, tb)
		}
		return ""
	}
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			f := a.Type().Field(i)
			if !f.IsExported() {
				continue // bun.BaseModel
			}
			if d := diff(path+"."+f.Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil %v and nil %v", path, a.IsNil(), b.IsNil())
			}
			return ""
		}
		return diff("*"+path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Sprintf("%s: nil %v len %d and nil %v len %d", path, a.IsNil(), a.Len(), b.IsNil(), b.Len())
		}
		for i := range a.Len() {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			return fmt.Sprintf("%s: %v and %v", path, a, b)
		}
		return ""
	case reflect.Float32, reflect.Float64:
		if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) && !(math.IsNaN(a.Float()) && math.IsNaN(b.Float())) {
			return fmt.Sprintf("%s: %v and %v", path, a.Float(), b.Float())
		}
		return ""
	}
	if !a.Equal(b) {
		return fmt.Sprintf("%s: %v and %v", path, a, b)
	}
	return ""
}
