package pgread_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/pgread"
	"github.com/cosworth/cosworth/models"
)

// Stamped embeds models.Base, whose BeforeAppendModel hook sets the
// timestamps: pgread runs its queries itself and calls the hook.
type Stamped struct {
	bun.BaseModel `bun:"table:stamped,alias:stamped"`
	models.Base
	Text string `bun:"text,notnull"`
}

// OwnHooked embeds models.Base but declares a hook of its own, which
// may change the query bun gives it: bun must format its queries.
type OwnHooked struct {
	bun.BaseModel `bun:"table:own_hooked,alias:own"`
	models.Base
	Text string `bun:"text,notnull"`
}

func (o *OwnHooked) BeforeAppendModel(ctx context.Context, q bun.Query) error {
	if _, ok := q.(*bun.InsertQuery); ok {
		o.Text = strings.ToUpper(o.Text)
	}
	return o.Base.BeforeAppendModel(ctx, q)
}

// TestBaseHook checks that a model embedding models.Base takes pgread's
// prepared reads and one-statement writes, with the timestamps bun's hook
// would set (bun runs nothing), and that a model with a hook of its own
// is left to bun, whose hook then runs.
func TestBaseHook(t *testing.T) {
	db := dbtest.Postgres(t, (*Stamped)(nil), (*OwnHooked)(nil))
	ctx := context.Background()
	byID := func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("?TableAlias.id = ?", pgread.Int64(0)) }
	if pgread.Prepare(byID(db.NewSelect().Model((*Stamped)(nil))), new(Stamped), 1) == nil {
		t.Fatal("Prepare refused a models.Base model")
	}
	if !pgread.FieldsWritable(db, new(Stamped)) || !pgread.RowsDeletable(db, new(Stamped)) {
		t.Fatal("a models.Base model is not writable in place")
	}
	if pgread.Prepare(byID(db.NewSelect().Model((*OwnHooked)(nil))), new(OwnHooked), 1) != nil ||
		pgread.FieldsWritable(db, new(OwnHooked)) || pgread.RowsDeletable(db, new(OwnHooked)) {
		t.Fatal("a model with a hook of its own takes pgread's fast paths")
	}
	stored := func(id int64) Stamped {
		var s Stamped
		dbtest.Must(t, db.NewSelect().Model(&s).Where("id = ?", id).Scan(ctx), "stored %d", id)
		return s
	}

	// Insert: both timestamps set to the same instant, as bun's insert
	// does; created_at kept when the object already has one.
	w := newWrite(db, reflect.TypeFor[Stamped]())
	table, returning := w.table, w.returning
	given := time.Date(2020, 1, 2, 3, 4, 5, 6789, time.FixedZone("x", 3600))
	for _, created := range []time.Time{{}, given} {
		s := Stamped{Text: "a", Base: models.Base{CreatedAt: created}}
		start, n := models.Now(), queries(db)
		handled, err := pgread.InsertFields(ctx, db, table, returning, &s, func() *bun.InsertQuery {
			return db.NewInsert().Model(&s).Returning(returning)
		})
		if !handled || err != nil || queries(db) != n {
			t.Fatalf("InsertFields: handled %v, %v, bun queries %d", handled, err, queries(db)-n)
		}
		wantCreated := s.UpdatedAt
		if !created.IsZero() {
			wantCreated = given.UTC().Truncate(time.Microsecond)
		}
		if s.UpdatedAt.Before(start) || !s.CreatedAt.Equal(wantCreated) || s.CreatedAt.Location() != time.UTC {
			t.Fatalf("insert at %v returned created_at %v, updated_at %v; want created_at %v", start, s.CreatedAt, s.UpdatedAt, wantCreated)
		}
		if got := stored(s.ID); got != s {
			t.Fatalf("insert returned %+v, stored %+v", s, got)
		}
	}

	// Update in one statement: updated_at set now, created_at kept.
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := db.NewUpdate().Model((*Stamped)(nil)).Set("updated_at = ?", old).Where("id = 1").Exec(ctx)
	dbtest.Must(t, err, "reset updated_at")
	before := stored(1)
	u := &Stamped{Text: "b"}
	start, n := models.Now(), queries(db)
	handled, updated, err := pgread.UpdateFieldsWhere(ctx, db, table, []*schema.Field{table.FieldMap["text"], table.FieldMap["updated_at"]}, returning, u,
		[]string{`"stamped"."id" = ?`}, []any{pgread.Int64(1)})
	if !handled || !updated || err != nil || queries(db) != n {
		t.Fatalf("UpdateFieldsWhere: handled %v, updated %v, %v, bun queries %d", handled, updated, err, queries(db)-n)
	}
	if u.UpdatedAt.Before(start) || !u.CreatedAt.Equal(before.CreatedAt) || u.Text != "b" {
		t.Fatalf("update at %v returned %+v; created_at was %v", start, u, before.CreatedAt)
	}
	if got := stored(1); got != *u {
		t.Fatalf("update returned %+v, stored %+v", *u, got)
	}

	// Update after a locked read (Load, then UPDATE and COMMIT).
	_, err = db.NewUpdate().Model((*Stamped)(nil)).Set("updated_at = ?", old).Where("id = 2").Exec(ctx)
	dbtest.Must(t, err, "reset updated_at")
	var l Stamped
	tx, handled, err := pgread.Load(ctx, db.NewSelect().Model(&l).Where("?TableAlias.id = ?", pgread.Int64(2)).For("UPDATE"), &l)
	if !handled || err != nil {
		t.Fatalf("Load: handled %v, %v", handled, err)
	}
	dbtest.Must(t, tx.UpdateCommit(ctx, db.NewUpdate().Model(&l).Column("text", "updated_at").WherePK().Returning(returning), &l), "first update")
	tx.Close(ctx)
	_, err = db.NewUpdate().Model((*Stamped)(nil)).Set("updated_at = ?", old).Where("id = 2").Exec(ctx)
	dbtest.Must(t, err, "reset updated_at")
	tx, _, err = pgread.Load(ctx, db.NewSelect().Model(&l).Where("?TableAlias.id = ?", pgread.Int64(2)).For("UPDATE"), &l)
	dbtest.Must(t, err, "Load")
	l.Text = "c"
	start = models.Now()
	handled, err = tx.UpdateFieldsCommit(ctx, table, []*schema.Field{table.FieldMap["text"], table.FieldMap["updated_at"]}, returning, &l)
	tx.Close(ctx)
	if !handled || err != nil {
		t.Fatalf("UpdateFieldsCommit: handled %v, %v", handled, err)
	}
	if got := stored(2); got.UpdatedAt.Before(start) || got.Text != "c" || got != l {
		t.Fatalf("update at %v stored %+v, returned %+v", start, got, l)
	}

	// A hook of the model's own runs, through bun's formatting.
	ow := newWrite(db, reflect.TypeFor[OwnHooked]())
	otable, oreturning := ow.table, ow.returning
	o := OwnHooked{Text: "shout"}
	handled, err = pgread.InsertFields(ctx, db, otable, oreturning, &o, func() *bun.InsertQuery {
		return db.NewInsert().Model(&o).Returning(oreturning)
	})
	if !handled || err != nil || o.Text != "SHOUT" || o.CreatedAt.IsZero() {
		t.Fatalf("own hook: handled %v, %v, %+v", handled, err, o)
	}
}
