package pgread_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/pgread"
	"github.com/cosworth/cosworth/models"
)

type stamps struct {
	Created time.Time  `bun:"created,notnull"`
	Seen    *time.Time `bun:"seen"`
}

// Item has a field of every kind pgread scans itself.
type Item struct {
	bun.BaseModel `bun:"table:items,alias:item"`

	ID      int64        `bun:"id,pk,autoincrement"`
	Name    string       `bun:"name"` // nullable: NULL scans as ""
	Note    *string      `bun:"note"`
	Rank    int32        `bun:"rank,notnull"`
	Small   int16        `bun:"small,notnull"`
	Count   uint16       `bun:"count,notnull"`
	Big     int          `bun:"big,notnull"`
	Active  bool         `bun:"active,notnull"`
	Flag    *bool        `bun:"flag"`
	Score   float64      `bun:"score,notnull"`
	Ratio   *float32     `bun:"ratio"`
	Day     models.Date  `bun:"day,type:date"`
	Due     *models.Date `bun:"due,type:date"`
	Local   time.Time    `bun:"local,type:timestamp"`
	Charged *int64       `bun:"charged"`
	stamps
}

// AfterScanRow makes times comparable across bun (text results) and pgx
// (binary results): same instant, one location. It also proves pgread
// calls the hook.
func (it *Item) AfterScanRow(context.Context) error {
	it.Created = it.Created.UTC()
	if it.Seen != nil {
		s := it.Seen.UTC()
		it.Seen = &s
	}
	it.Local = it.Local.UTC()
	return nil
}

func seed(t *testing.T, db *bun.DB) {
	t.Helper()
	note, flag, ratio, charged := "a note", true, float32(0.5), int64(-7)
	due := models.Date{Year: 2024, Month: 2, Day: 29}
	seen := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	items := []Item{
		{Name: "first", Note: &note, Rank: 3, Small: -2, Count: 300, Big: 1 << 40, Active: true, Flag: &flag, Score: 1.25, Ratio: &ratio,
			Day: models.Date{Year: 2020, Month: 1, Day: 31}, Due: &due, Local: time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC), Charged: &charged,
			stamps: stamps{Created: time.Date(2022, 3, 4, 5, 6, 7, 8000, time.UTC), Seen: &seen}},
		{Name: "it's <second>", Rank: 1, stamps: stamps{Created: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for i := range 8 {
		items = append(items, Item{Name: "more " + string(rune('a'+i)), Rank: int32(10 + i), stamps: stamps{Created: time.Unix(int64(i), 0).UTC()}})
	}
	if _, err := db.NewInsert().Model(&items).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A NULL in a non-pointer column, as bun scans it: the zero value.
	if _, err := db.NewRaw("UPDATE items SET name = NULL WHERE rank = 17").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// queries counts the queries bun runs on db (pgread's do not go through bun).
func queries(db *bun.DB) uint32 { return db.DBStats().Queries }

// TestDirect checks that pgread answers what bun answers, without bun
// running the query: a page, a window, one object, a count, a missing object.
func TestDirect(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil))
	checkDirect(t, db)
}

// TestExecModes checks pgread under the pgx settings a DSN may choose
// (PgBouncer setups turn prepared statements off): results then come as
// text, and pgread must answer the same.
func TestExecModes(t *testing.T) {
	for _, extra := range []string{"statement_cache_capacity=0", "default_query_exec_mode=simple_protocol", "default_query_exec_mode=cache_describe"} {
		t.Run(extra, func(t *testing.T) {
			dsn, _ := dbtest.PostgresSchemaURL(t)
			ctx := context.Background()
			db, err := models.Open(ctx, dsn+"&"+extra)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := models.CreateTables(ctx, db, (*Item)(nil)); err != nil {
				t.Fatal(err)
			}
			checkDirect(t, db)
		})
	}
}

func checkDirect(t *testing.T, db *bun.DB) {
	seed(t, db)
	ctx := context.Background()
	queries0 := queries(db)
	shapes := []struct {
		name string
		q    func(q *bun.SelectQuery) *bun.SelectQuery
	}{
		{"all", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("id") }},
		{"where arg", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("?TableAlias.rank >= ?", pgread.Arg(int64(3))).Where("name <> ?", pgread.Arg("x")).OrderExpr("rank DESC")
		}},
		{"inline values", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("rank < ?", 15).Where("name LIKE ?", "%e%").Order("id")
		}},
		{"fewer columns", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Column("id", "name", "due").Order("id") }},
		{"time arg", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("created > ?", pgread.Arg(time.Unix(3, 0))).Order("id")
		}},
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			var want, got []Item
			if err := s.q(db.NewSelect().Model(&want)).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			n := queries(db)
			if err := pgread.Scan(ctx, s.q(db.NewSelect().Model(&got)), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("pgread scanned\n%+v\nbun scanned\n%+v", got, want)
			}
			wantCount, err := s.q(db.NewSelect().Model((*Item)(nil))).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			before := queries(db)
			count, err := pgread.Count(ctx, s.q(db.NewSelect().Model((*Item)(nil))))
			if err != nil || count != wantCount {
				t.Fatalf("count %d, %v; bun counts %d", count, err, wantCount)
			}
			var page, wantPage []Item
			if err := s.q(db.NewSelect().Model(&wantPage)).Limit(3).Offset(2).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			after := queries(db)
			if err := pgread.ScanWindow(ctx, s.q(db.NewSelect().Model(&page)), &page, 3, 2); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(page, wantPage) {
				t.Fatalf("window\n%+v\nbun\n%+v", page, wantPage)
			}
			if n != before-1 || after != queries(db) {
				t.Fatalf("bun ran pgread's queries: %d %d %d %d", n, before, after, queries(db))
			}
		})
	}

	t.Run("object", func(t *testing.T) {
		var want, got Item
		if err := db.NewSelect().Model(&want).Where("id = ?", 1).Limit(1).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		n := queries(db)
		if err := pgread.Scan(ctx, db.NewSelect().Model(&got).Where("?TableAlias.id = ?", pgread.Int64(1)).Limit(1), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || queries(db) != n {
			t.Fatalf("pgread scanned (bun queries %d -> %d)\n%+v\nbun scanned\n%+v", n, queries(db), got, want)
		}
		if got.Note == nil || *got.Note != "a note" || got.Due == nil || *got.Due != (models.Date{Year: 2024, Month: 2, Day: 29}) || got.Big != 1<<40 {
			t.Fatalf("values: %+v", got)
		}
	})
	t.Run("missing object", func(t *testing.T) {
		var got Item
		err := pgread.Scan(ctx, db.NewSelect().Model(&got).Where("id = ?", pgread.Arg(int64(999))), &got)
		if err == nil || !strings.Contains(models.Classify(err).Error(), "not found") {
			t.Fatalf("err %v, want one wrapping sql.ErrNoRows", err)
		}
	})
	if queries(db) == queries0 {
		t.Fatal("no query ran on bun: the comparison is void")
	}
}

// Owner has a has-many relation: bun must run a query that joins it
// (bun loads it with a query of its own); Pet has a JSON field.
type Owner struct {
	ID   int64  `bun:"id,pk,autoincrement"`
	Name string `bun:"name,notnull"`
	Pets []*Pet `bun:"rel:has-many,join:id=owner_id"`
}

type Pet struct {
	ID      int64  `bun:"id,pk,autoincrement"`
	OwnerID int64  `bun:"owner_id,notnull"`
	Name    string `bun:"name,notnull"`
	Data    map[string]int
}

type hook struct{ n atomic.Int32 }

func (h *hook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	h.n.Add(1)
	return ctx
}
func (h *hook) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestFallback checks the queries pgread leaves to bun, and that they
// answer the same.
func TestFallback(t *testing.T) {
	ctx := context.Background()
	t.Run("relations", func(t *testing.T) {
		db := dbtest.Postgres(t, (*Owner)(nil), (*Pet)(nil))
		if _, err := db.NewInsert().Model(&Owner{Name: "o"}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.NewInsert().Model(&Pet{OwnerID: 1, Name: "p", Data: map[string]int{"a": 1}}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var owners []Owner
		n := queries(db)
		if err := pgread.Scan(ctx, db.NewSelect().Model(&owners).Relation("Pets"), &owners); err != nil {
			t.Fatal(err)
		}
		if len(owners) != 1 || len(owners[0].Pets) != 1 || queries(db) == n {
			t.Fatalf("owners %+v, bun queries %d -> %d", owners, n, queries(db))
		}
		var pets []Pet // a JSON column: bun decodes it
		n = queries(db)
		if err := pgread.Scan(ctx, db.NewSelect().Model(&pets), &pets); err != nil {
			t.Fatal(err)
		}
		if len(pets) != 1 || pets[0].Data["a"] != 1 || queries(db) == n {
			t.Fatalf("pets %+v, bun queries %d -> %d", pets, n, queries(db))
		}
	})
	t.Run("query hook", func(t *testing.T) {
		db := dbtest.Postgres(t, (*Item)(nil))
		seed(t, db)
		h := &hook{}
		db = db.WithQueryHook(h)
		var items []Item
		if err := pgread.ScanWindow(ctx, db.NewSelect().Model(&items).Order("id"), &items, 2, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := pgread.Count(ctx, db.NewSelect().Model((*Item)(nil))); err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 || items[0].ID != 2 || h.n.Load() != 2 {
			t.Fatalf("items %d (first %d), hook saw %d queries, want 2", len(items), items[0].ID, h.n.Load())
		}
	})
	t.Run("column expression", func(t *testing.T) {
		db := dbtest.Postgres(t, (*Item)(nil))
		seed(t, db)
		var items []Item
		n := queries(db)
		q := db.NewSelect().Model(&items).ColumnExpr("id, upper(name) AS name").Where("id = ?", pgread.Arg(int64(1)))
		if err := pgread.Scan(ctx, q, &items); err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].Name != "FIRST" || queries(db) == n {
			t.Fatalf("items %+v, bun queries %d -> %d", items, n, queries(db))
		}
	})
	t.Run("value beyond the column's type", func(t *testing.T) {
		db := dbtest.Postgres(t, (*Item)(nil))
		seed(t, db)
		var it Item // rank is an int4 column; pgx cannot encode 1<<40 for it, bun compares
		err := pgread.Scan(ctx, db.NewSelect().Model(&it).Where("rank = ?", pgread.Arg(int64(1<<40))), &it)
		if !strings.Contains(models.Classify(err).Error(), "not found") {
			t.Fatalf("err %v, want not found", err)
		}
		n, err := pgread.Count(ctx, db.NewSelect().Model((*Item)(nil)).Where("rank = ?", pgread.Arg(int64(1<<40))))
		if err != nil || n != 0 {
			t.Fatalf("count %d, %v", n, err)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		db := dbtest.SQLite(t, (*Item)(nil))
		seed(t, db)
		var items []Item
		if err := pgread.ScanWindow(ctx, db.NewSelect().Model(&items).Where("rank >= ?", pgread.Arg(int64(3))).Order("id"), &items, 2, 1); err != nil {
			t.Fatal(err)
		}
		n, err := pgread.Count(ctx, db.NewSelect().Model((*Item)(nil)).Where("rank >= ?", pgread.Arg(int64(3))))
		if err != nil || n != 9 || len(items) != 2 || items[0].Rank != 10 {
			t.Fatalf("count %d, %v; items %+v", n, err, items)
		}
	})
}

// TestArgLiteral checks that bun formats an Arg as the literal of its
// value, so queries bun runs are unchanged.
func TestArgLiteral(t *testing.T) {
	db := dbtest.Postgres(t)
	for _, v := range []any{int64(-3), "it's", true, 1.5, nil, models.Date{Year: 2020, Month: 1, Day: 2}, time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)} {
		got := db.NewSelect().ColumnExpr("?", pgread.Arg(v)).String()
		want := db.NewSelect().ColumnExpr("?", v).String()
		if got != want {
			t.Errorf("Arg(%#v) formats as %s, bun formats %s", v, got, want)
		}
	}
	if got, want := db.NewSelect().ColumnExpr("?", pgread.Int64(-5)).String(), db.NewSelect().ColumnExpr("?", -5).String(); got != want {
		t.Errorf("Int64(-5) formats as %s, bun formats %s", got, want)
	}
}

// TestStatement checks a query formatted once and run with new values.
func TestStatement(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil))
	seed(t, db)
	ctx := context.Background()
	st := pgread.Prepare(db.NewSelect().Model((*Item)(nil)).Where("?TableAlias.id = ?", pgread.Int64(1)).Limit(1), &Item{}, 1)
	if st == nil {
		t.Fatal("Prepare: nil")
	}
	for _, id := range []int64{1, 2, 3} {
		var want, got Item
		dbtest.Must(t, db.NewSelect().Model(&want).Where("id = ?", id).Scan(ctx), "bun")
		n := queries(db)
		handled, err := st.Scan(ctx, db, &got, pgread.Int64(id))
		if !handled || err != nil || !reflect.DeepEqual(got, want) || queries(db) != n {
			t.Fatalf("id %d: handled %v, %v\n%+v\nbun\n%+v", id, handled, err, got, want)
		}
	}
	var got Item
	if handled, err := st.Scan(ctx, db, &got, pgread.Int64(999)); !handled || !strings.Contains(models.Classify(err).Error(), "not found") {
		t.Fatalf("missing: handled %v, %v", handled, err)
	}
	if handled, _ := st.Scan(ctx, db, &got, pgread.Arg(1.5)); handled {
		t.Fatal("a float (a literal) ran on the statement")
	}
	if handled, _ := st.Scan(ctx, db.WithQueryHook(&hook{}), &got, pgread.Int64(1)); handled {
		t.Fatal("ran on another DB (one with a query hook)")
	}
	if st := pgread.Prepare(db.NewSelect().Model((*Item)(nil)).Where("id = ?", 1.5), &Item{}, 1); st != nil {
		t.Fatal("Prepare accepted a literal value")
	}
}

// Writer, Novel, Cover and Review declare has-one and belongs-to
// relations: queries that select only their own columns, or join them, run
// on pgx. (Models with has-many relations: TestDifferential.)
type Writer struct {
	ID    int64        `bun:"id,pk,autoincrement"`
	Name  string       `bun:"name,notnull"`
	Email *string      `bun:"email"`
	Born  *models.Date `bun:"born,type:date"`
	Rank  int32        `bun:"rank"`
	Hooks int          `bun:"-"` // the AfterScanRow calls
}

// AfterScanRow counts its calls. bun calls it on a writer it selects, not
// on one joined to a novel (it scans a joined relation's columns through
// the novel's struct fields), even when the novel has the hook too.
func (w *Writer) AfterScanRow(context.Context) error {
	w.Hooks++
	return nil
}

// AfterScanRow gives Novel a hook, as models embedding models.Base have.
func (n *Novel) AfterScanRow(context.Context) error { return nil }

type Novel struct {
	ID       int64   `bun:"id,pk,autoincrement"`
	Title    string  `bun:"title,notnull"`
	WriterID *int64  `bun:"writer_id"`
	Writer   *Writer `bun:"rel:belongs-to,join:writer_id=id"`
	Cover    *Cover  `bun:"rel:has-one,join:id=novel_id"`
}

type Cover struct {
	ID      int64  `bun:"id,pk,autoincrement"`
	NovelID int64  `bun:"novel_id,notnull"`
	Color   string `bun:"color"`
}

// Review's relation is a struct, not a pointer: bun scans into it in
// place, NULLs as zero values.
type Review struct {
	ID      int64  `bun:"id,pk,autoincrement"`
	NovelID *int64 `bun:"novel_id"`
	Stars   int16  `bun:"stars,notnull"`
	Novel   Novel  `bun:"rel:belongs-to,join:novel_id=id"`
}

// TestRelations checks that pgread answers what bun answers for models
// with relations, without bun running the query unless a relation of a
// relation is joined.
func TestRelations(t *testing.T) {
	db := dbtest.Postgres(t, (*Writer)(nil), (*Novel)(nil), (*Cover)(nil), (*Review)(nil))
	ctx := context.Background()
	// An orphan's LEFT JOIN finds no writer.
	_, err := db.NewRaw("ALTER TABLE novels DROP CONSTRAINT novels_writer_id_fkey").Exec(ctx)
	dbtest.Must(t, err, "drop the foreign key")
	email, born := "w@example.com", models.Date{Year: 1970, Month: 1, Day: 2}
	writers := []Writer{{Name: "full", Email: &email, Born: &born, Rank: 3}, {Name: "sparse"}}
	_, err = db.NewInsert().Model(&writers).Exec(ctx)
	dbtest.Must(t, err, "writers")
	w1, w2, w9 := int64(1), int64(2), int64(9)
	novels := []Novel{{Title: "one", WriterID: &w1}, {Title: "two", WriterID: &w2}, {Title: "orphan", WriterID: &w9}, {Title: "anonymous"}, {Title: "five", WriterID: &w1}}
	_, err = db.NewInsert().Model(&novels).Exec(ctx)
	dbtest.Must(t, err, "novels")
	_, err = db.NewInsert().Model(&[]Cover{{NovelID: 1, Color: "red"}, {NovelID: 2}}).Exec(ctx)
	dbtest.Must(t, err, "covers")
	_, err = db.NewRaw("UPDATE covers SET color = NULL WHERE novel_id = 2").Exec(ctx)
	dbtest.Must(t, err, "null color")
	n1, n3 := int64(1), int64(3)
	_, err = db.NewInsert().Model(&[]Review{{NovelID: &n1, Stars: 5}, {NovelID: &n3, Stars: 2}, {Stars: 1}}).Exec(ctx)
	dbtest.Must(t, err, "reviews")

	for _, c := range []struct {
		name   string
		q      func(q *bun.SelectQuery) *bun.SelectQuery
		direct bool
	}{
		{"own columns", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("novel.id") }, true},
		{"belongs-to", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Relation("Writer").Order("novel.id") }, true},
		{"belongs-to, some columns", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Relation("Writer", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Column("id", "email") }).
				Where("?TableAlias.title <> ?", pgread.Arg("x")).Order("novel.id")
		}, true},
		{"belongs-to and has-one", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Relation("Cover").Relation("Writer").Order("novel.id")
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var want, got []Novel
			dbtest.Must(t, c.q(db.NewSelect().Model(&want)).Scan(ctx), "bun")
			n := queries(db)
			dbtest.Must(t, pgread.Scan(ctx, c.q(db.NewSelect().Model(&got)), &got), "pgread")
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("pgread scanned\n%s\nbun scanned\n%s", dump(got), dump(want))
			}
			if direct := queries(db) == n; direct != c.direct {
				t.Fatalf("ran on pgx: %v, want %v", direct, c.direct)
			}
			var page, wantPage []Novel
			dbtest.Must(t, c.q(db.NewSelect().Model(&wantPage)).Limit(2).Offset(1).Scan(ctx), "bun page")
			dbtest.Must(t, pgread.ScanWindow(ctx, c.q(db.NewSelect().Model(&page)), &page, 2, 1), "pgread page")
			if !reflect.DeepEqual(page, wantPage) {
				t.Fatalf("window\n%s\nbun\n%s", dump(page), dump(wantPage))
			}
			for id := int64(1); id <= 5; id++ {
				var one, wantOne Novel
				dbtest.Must(t, c.q(db.NewSelect().Model(&wantOne)).Where("novel.id = ?", id).Scan(ctx), "bun object")
				n := queries(db)
				dbtest.Must(t, pgread.Scan(ctx, c.q(db.NewSelect().Model(&one)).Where("novel.id = ?", pgread.Int64(id)), &one), "pgread object")
				if !reflect.DeepEqual(one, wantOne) {
					t.Fatalf("object %d\n%s\nbun\n%s", id, dump(one), dump(wantOne))
				}
				if direct := queries(db) == n; direct != c.direct {
					t.Fatalf("object %d ran on pgx: %v, want %v", id, direct, c.direct)
				}
			}
		})
	}
	// What the joins fill, so the comparison above compares something.
	var got []Novel
	dbtest.Must(t, pgread.Scan(ctx, db.NewSelect().Model(&got).Relation("Writer").Relation("Cover").Order("novel.id"), &got), "pgread")
	if len(got) != 5 || got[0].Writer == nil || *got[0].Writer.Email != email || got[1].Writer == nil || got[1].Writer.Email != nil ||
		got[2].Writer != nil || got[3].Writer != nil || got[0].Writer == got[4].Writer || got[4].Writer.Name != "full" ||
		got[0].Writer.Hooks != 0 || got[1].Writer.Hooks != 0 || got[0].Cover == nil || got[0].Cover.Color != "red" || got[1].Cover == nil || got[1].Cover.Color != "" || got[2].Cover != nil {
		t.Fatalf("joined:\n%s", dump(got))
	}

	t.Run("struct relation", func(t *testing.T) {
		// Review has no AfterScanRow hook: bun calls no hook of its joins.
		q := func(q *bun.SelectQuery) *bun.SelectQuery { return q.Relation("Novel").Order("review.id") }
		var want, got []Review
		dbtest.Must(t, q(db.NewSelect().Model(&want)).Scan(ctx), "bun")
		n := queries(db)
		dbtest.Must(t, pgread.Scan(ctx, q(db.NewSelect().Model(&got)), &got), "pgread")
		if !reflect.DeepEqual(got, want) || queries(db) != n {
			t.Fatalf("pgread scanned (bun queries %d -> %d)\n%s\nbun scanned\n%s", n, queries(db), dump(got), dump(want))
		}
		if len(got) != 3 || got[0].Novel.Title != "one" || got[2].Novel.ID != 0 || got[0].Novel.Writer != nil {
			t.Fatalf("reviews %s", dump(got))
		}
	})
	t.Run("nested relation", func(t *testing.T) {
		var got []Review
		n := queries(db)
		dbtest.Must(t, pgread.Scan(ctx, db.NewSelect().Model(&got).Relation("Novel.Writer").Order("review.id"), &got), "pgread")
		if len(got) != 3 || got[0].Novel.Writer == nil || got[0].Novel.Writer.Name != "full" || queries(db) == n {
			t.Fatalf("reviews %s, bun queries %d -> %d", dump(got), n, queries(db))
		}
	})
	t.Run("a retrieve's relation already set", func(t *testing.T) {
		// bun scans into the struct a pointer already points to.
		old := &Writer{Name: "old", Rank: 7}
		want, got := Novel{Writer: &Writer{Name: "old", Rank: 7}}, Novel{Writer: old}
		dbtest.Must(t, db.NewSelect().Model(&want).Relation("Writer").Where("novel.id = 2").Scan(ctx), "bun")
		dbtest.Must(t, pgread.Scan(ctx, db.NewSelect().Model(&got).Relation("Writer").Where("novel.id = ?", pgread.Int64(2)), &got), "pgread")
		if !reflect.DeepEqual(got, want) || got.Writer != old || old.Rank != 0 {
			t.Fatalf("pgread scanned\n%s\nbun scanned\n%s", dump(got), dump(want))
		}
	})
}

// dump shows pointers' values.
func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

// TestTx checks an update's transaction on pgx: the loaded row stays
// locked until UpdateCommit, which stores the update and returns the row;
// Close without a commit rolls back; a value PostgreSQL rejects as a
// parameter (bun's literal compares it) leaves the transaction to bun.
func TestTx(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil))
	seed(t, db)
	ctx := context.Background()
	if !pgread.Writable(db, &Item{}) || !pgread.Deletable(db, &Item{}) || pgread.Writable(db.WithQueryHook(&hook{}), &Item{}) {
		t.Fatal("Writable/Deletable")
	}
	locked := func() bool {
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewSelect().Model((*Item)(nil)).Where("id = 1").For("UPDATE NOWAIT").Scan(ctx, new(Item))
		})
		return err != nil && strings.Contains(err.Error(), "55P03")
	}
	load := func() (*Item, *pgread.Tx) {
		var it Item
		tx, handled, err := pgread.Load(ctx, db.NewSelect().Model(&it).Where("?TableAlias.id = ?", pgread.Int64(1)).Limit(1).For("UPDATE OF ?TableAlias"), &it)
		if !handled || err != nil || it.ID != 1 || !locked() {
			tx.Close(ctx)
			t.Fatalf("Load: handled %v, %v, %+v", handled, err, it)
		}
		return &it, tx
	}

	it, tx := load()
	it.Name, it.Rank = "renamed", 99
	n := queries(db)
	err := tx.UpdateCommit(ctx, db.NewUpdate().Model(it).Column("name").WherePK().Returning("*"), it)
	tx.Close(ctx)
	var stored Item
	dbtest.Must(t, db.NewSelect().Model(&stored).Where("id = 1").Scan(ctx), "stored")
	if err != nil || queries(db) != n+1 || locked() || stored.Name != "renamed" || stored.Rank != 3 || it.Rank != 3 {
		// it.Rank is back to 3: RETURNING * scanned the stored row into it.
		t.Fatalf("UpdateCommit: %v; stored %+v, returned %+v, locked %v", err, stored, it, locked())
	}

	it, tx = load()
	it.Name = "not stored"
	dbtest.Must(t, db.NewSelect().Model(&stored).Where("id = 2").Scan(ctx), "other row") // not locked
	tx.Close(ctx)
	dbtest.Must(t, db.NewSelect().Model(&stored).Where("id = 1").Scan(ctx), "stored")
	if stored.Name != "renamed" || locked() {
		t.Fatalf("Close: stored %+v, locked %v", stored, locked())
	}

	var missing Item
	tx, handled, err := pgread.Load(ctx, db.NewSelect().Model(&missing).Where("id = ?", pgread.Int64(999)).For("UPDATE"), &missing)
	if !handled || !strings.Contains(models.Classify(err).Error(), "not found") || tx != nil {
		t.Fatalf("missing: handled %v, %v", handled, err)
	}
	_, handled, err = pgread.Load(ctx, db.NewSelect().Model(&missing).Where("rank = ?", pgread.Arg(int64(1<<40))).For("UPDATE"), &missing)
	if handled || err != nil {
		t.Fatalf("int4 overflow: handled %v, %v; want bun to run it", handled, err)
	}

	it, tx = load()
	err = tx.DeleteCommit(ctx, db.NewDelete().Model(it).WherePK(), it)
	tx.Close(ctx)
	if exists, _ := db.NewSelect().Model((*Item)(nil)).Where("id = 1").Exists(ctx); err != nil || exists {
		t.Fatalf("DeleteCommit: %v, row exists %v", err, exists)
	}
}
