package pgread_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/pgread"
)

// Hooked is a model with an insert hook: bun must run its inserts.
type Hooked struct {
	bun.BaseModel `bun:"table:hooked"`
	ID            int64  `bun:"id,pk,autoincrement"`
	Name          string `bun:"name,notnull"`
}

func (h *Hooked) BeforeInsert(context.Context, *bun.InsertQuery) error { return nil }

var _ bun.BeforeInsertHook = (*Hooked)(nil)

// TestInsert checks that Insert runs an INSERT ... RETURNING on pgx (bun
// runs nothing) and returns the row bun returns, the model's first insert
// and a later one; that a unique violation stores nothing and is the
// database's error; and that a model with insert hooks or a DB with query
// hooks is left to bun.
func TestInsert(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil), (*Hooked)(nil))
	ctx := context.Background()
	_, err := db.ExecContext(ctx, `CREATE UNIQUE INDEX items_name ON items (name)`)
	dbtest.Must(t, err, "unique index")
	returning := func(q *bun.InsertQuery) *bun.InsertQuery { return q.Returning("*") }
	for i, name := range []string{"first", "second"} {
		it := Item{Name: name, Rank: 7, stamps: stamps{Created: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}}
		n := queries(db)
		handled, err := pgread.Insert(ctx, returning(db.NewInsert().Model(&it)), &it)
		if !handled || err != nil || queries(db) != n || it.ID != int64(i+1) {
			t.Fatalf("insert %q: handled %v, %v, bun queries %d, id %d", name, handled, err, queries(db)-n, it.ID)
		}
		var stored Item
		dbtest.Must(t, db.NewSelect().Model(&stored).Where("id = ?", it.ID).Scan(ctx), "stored")
		if stored != it {
			t.Fatalf("insert %q: returned %+v, stored %+v", name, it, stored)
		}
	}
	dup := Item{Name: "first"}
	handled, err := pgread.Insert(ctx, returning(db.NewInsert().Model(&dup)), &dup)
	count, cerr := db.NewSelect().Model((*Item)(nil)).Count(ctx)
	dbtest.Must(t, cerr, "count")
	if !handled || err == nil || !strings.Contains(err.Error(), "23505") || count != 2 {
		t.Fatalf("duplicate: handled %v, %v, %d rows", handled, err, count)
	}
	h := Hooked{Name: "x"}
	if handled, err := pgread.Insert(ctx, db.NewInsert().Model(&h).Returning("*"), &h); handled || err != nil || h.ID != 0 {
		t.Fatalf("insert hook: handled %v, %v, id %d; want bun to run it", handled, err, h.ID)
	}
	hdb := db.WithQueryHook(&hook{})
	it := Item{Name: "third"}
	if handled, err := pgread.Insert(ctx, returning(hdb.NewInsert().Model(&it)), &it); handled || err != nil {
		t.Fatalf("query hook: handled %v, %v; want bun to run it", handled, err)
	}
}
