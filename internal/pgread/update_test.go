package pgread_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/pgread"
	"github.com/cosworth/cosworth/models"
)

// TestUpdateFieldsCommit writes the same values into two rows, one with
// bun's UpdateQuery (Tx.UpdateCommit) and one with the UPDATE pgread
// writes itself (Tx.UpdateFieldsCommit), and requires the same stored
// rows and the same returned objects: NULLs, quotes and backslashes,
// non-ASCII text, times with microseconds, dates, booleans, floats.
func TestUpdateFieldsCommit(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil))
	seed(t, db)
	ctx := context.Background()
	table := db.Dialect().Tables().Get(reflect.TypeFor[Item]())
	var fields []*schema.Field
	var cols, ret []string
	for _, f := range table.Fields {
		ret = append(ret, string(f.SQLName))
		if !f.IsPK {
			fields = append(fields, f)
			cols = append(cols, f.Name)
		}
	}
	returning := strings.Join(ret, ", ")
	note, flag, ratio, charged := `it's a \ "note" ü`, false, float32(0.25), int64(-7)
	due := models.DateOf(time.Date(2027, 2, 3, 0, 0, 0, 0, time.UTC))
	seen := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	set := func(it *Item, nulls bool) {
		it.Name, it.Rank, it.Small, it.Count, it.Big = `O'Brien \x`, -3, 12, 600, 1<<40
		it.Active, it.Score = true, 1.5
		it.Day = models.DateOf(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
		it.Local = time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
		it.Created = time.Date(2025, 7, 8, 9, 10, 11, 999999000, time.UTC)
		if nulls {
			it.Note, it.Flag, it.Ratio, it.Due, it.Charged, it.Seen = nil, nil, nil, nil, nil, nil
		} else {
			it.Note, it.Flag, it.Ratio, it.Due, it.Charged, it.Seen = &note, &flag, &ratio, &due, &charged, &seen
		}
	}
	load := func(id int64) (*Item, *pgread.Tx) {
		var it Item
		tx, handled, err := pgread.Load(ctx, db.NewSelect().Model(&it).Where("?TableAlias.id = ?", pgread.Int64(id)).For("UPDATE"), &it)
		if !handled || err != nil {
			t.Fatalf("Load %d: handled %v, %v", id, handled, err)
		}
		return &it, tx
	}
	stored := func(id int64) Item {
		var it Item
		dbtest.Must(t, db.NewSelect().Model(&it).Where("id = ?", id).Scan(ctx), "stored %d", id)
		return it
	}
	for _, nulls := range []bool{false, true} {
		a, tx := load(1)
		set(a, nulls)
		err := tx.UpdateCommit(ctx, db.NewUpdate().Model(a).Column(cols...).WherePK().Returning(returning), a)
		tx.Close(ctx)
		dbtest.Must(t, err, "bun's update")

		b, tx := load(2)
		set(b, nulls)
		handled, err := tx.UpdateFieldsCommit(ctx, table, fields, returning, b)
		tx.Close(ctx)
		if !handled || err != nil {
			t.Fatalf("UpdateFieldsCommit: handled %v, %v", handled, err)
		}
		sa, sb := stored(1), stored(2)
		sa.ID, sb.ID, a.ID, b.ID = 0, 0, 0, 0
		if !reflect.DeepEqual(sa, sb) || !reflect.DeepEqual(*a, *b) {
			t.Fatalf("nulls %v: bun stored %s returned %s\npgread stored %s returned %s", nulls, dump(sa), dump(*a), dump(sb), dump(*b))
		}
	}

	// A failing UPDATE (a check violation) commits nothing and leaves the
	// transaction to Close.
	_, err := db.ExecContext(ctx, `ALTER TABLE items ADD CONSTRAINT rank_small CHECK (rank < 1000)`)
	dbtest.Must(t, err, "add constraint")
	before := stored(2)
	b, tx := load(2)
	b.Name, b.Rank = "not stored", 5000
	handled, err := tx.UpdateFieldsCommit(ctx, table, fields, returning, b)
	tx.Close(ctx)
	if !handled || err == nil || !strings.Contains(err.Error(), "23514") {
		t.Fatalf("check violation: handled %v, %v", handled, err)
	}
	if after := stored(2); !reflect.DeepEqual(before, after) {
		t.Fatalf("a failed update changed the row: %s -> %s", dump(before), dump(after))
	}
}

// TestDeleteCommitFails checks that a DELETE the database refuses (a
// foreign key that restricts it) commits nothing, returns the database's
// error and leaves the transaction to Close, and that a later one runs.
func TestDeleteCommitFails(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil))
	seed(t, db)
	ctx := context.Background()
	_, err := db.ExecContext(ctx, `CREATE TABLE item_refs (item_id bigint NOT NULL REFERENCES items (id) ON DELETE RESTRICT)`)
	dbtest.Must(t, err, "create item_refs")
	_, err = db.ExecContext(ctx, `INSERT INTO item_refs VALUES (1)`)
	dbtest.Must(t, err, "insert item_refs")
	for _, id := range []int64{1, 2} {
		var it Item
		tx, handled, err := pgread.Load(ctx, db.NewSelect().Model(&it).Where("?TableAlias.id = ?", pgread.Int64(id)).For("UPDATE"), &it)
		if !handled || err != nil {
			t.Fatalf("Load %d: handled %v, %v", id, handled, err)
		}
		err = tx.DeleteCommit(ctx, db.NewDelete().Model(&it).WherePK(), &it)
		tx.Close(ctx)
		exists, xerr := db.NewSelect().Model((*Item)(nil)).Where("id = ?", id).Exists(ctx)
		dbtest.Must(t, xerr, "exists")
		switch {
		case id == 1 && (err == nil || !strings.Contains(err.Error(), "23503") || !exists):
			t.Fatalf("restricted delete: %v, row exists %v", err, exists)
		case id == 2 && (err != nil || exists):
			t.Fatalf("delete: %v, row exists %v", err, exists)
		}
	}
}
