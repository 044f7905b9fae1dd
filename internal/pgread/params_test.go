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

// itemWrite is the write of every column but the key of Item, as the
// generic views write it, and the values of one such write: every kind
// of field, with NULLs or with values (quotes and backslashes, non-ASCII
// text, negative numbers, times with microseconds, a time without time
// zone, dates, booleans, floats).
type itemWrite struct {
	table     *schema.Table
	fields    []*schema.Field
	cols      []string
	returning string
}

func newItemWrite(db *bun.DB) itemWrite { return newWrite(db, reflect.TypeFor[Item]()) }

// newWrite is the write of every column but the key of model t.
func newWrite(db *bun.DB, t reflect.Type) itemWrite {
	w := itemWrite{table: db.Dialect().Tables().Get(t)}
	var ret []string
	for _, f := range w.table.Fields {
		ret = append(ret, string(f.SQLName))
		if !f.IsPK {
			w.fields = append(w.fields, f)
			w.cols = append(w.cols, f.Name)
		}
	}
	w.returning = strings.Join(ret, ", ")
	return w
}

func setItem(it *Item, nulls bool) {
	note, flag, ratio, charged := `it's a \ "note" ü`, false, float32(0.25), int64(-7)
	due := models.DateOf(time.Date(2027, 2, 3, 0, 0, 0, 0, time.UTC))
	seen := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	it.Name, it.Rank, it.Small, it.Count, it.Big = `O'Brien \x ''`, -3, 12, 600, -1<<40
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

func storedItem(t *testing.T, db *bun.DB, id int64) Item {
	t.Helper()
	var it Item
	dbtest.Must(t, db.NewSelect().Model(&it).Where("id = ?", id).Scan(context.Background()), "stored %d", id)
	return it
}

// sameItems fails unless the two stored rows and the two returned
// objects are equal but for their ids.
func sameItems(t *testing.T, what string, sa, sb Item, a, b *Item) {
	t.Helper()
	sa.ID, sb.ID = 0, 0
	ca, cb := *a, *b
	ca.ID, cb.ID = 0, 0
	if !reflect.DeepEqual(sa, sb) || !reflect.DeepEqual(ca, cb) {
		t.Fatalf("%s: bun stored %s returned %s\npgread stored %s returned %s", what, dump(sa), dump(ca), dump(sb), dump(cb))
	}
}

// TestInsertFields inserts the same values twice, once through bun's
// InsertQuery (Insert) and once through the INSERT pgread writes with
// its values as parameters (InsertFields), and requires the same stored
// rows and returned objects; bun runs neither. A unique violation stores
// nothing and is the database's error.
func TestInsertFields(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil))
	ctx := context.Background()
	w := newItemWrite(db)
	for i, nulls := range []bool{false, true, false} {
		var a, b Item
		setItem(&a, nulls)
		setItem(&b, nulls)
		sfx := " " + string(rune('0'+i))
		b.Name += sfx + " (b)"
		a.Name += sfx + " (a)"
		n := queries(db)
		handled, err := pgread.Insert(ctx, db.NewInsert().Model(&a).Returning(w.returning), &a)
		if !handled || err != nil {
			t.Fatalf("Insert: handled %v, %v", handled, err)
		}
		handled, err = pgread.InsertFields(ctx, db, w.table, w.returning, &b, func() *bun.InsertQuery {
			return db.NewInsert().Model(&b).Returning(w.returning)
		})
		if !handled || err != nil || b.ID == 0 {
			t.Fatalf("InsertFields: handled %v, %v, id %d", handled, err, b.ID)
		}
		if q := queries(db) - n; q != 0 {
			t.Fatalf("bun ran %d queries", q)
		}
		a.Name, b.Name = strings.TrimSuffix(a.Name, " (a)"), strings.TrimSuffix(b.Name, " (b)")
		sa, sb := storedItem(t, db, a.ID), storedItem(t, db, b.ID)
		sa.Name, sb.Name = strings.TrimSuffix(sa.Name, " (a)"), strings.TrimSuffix(sb.Name, " (b)")
		sameItems(t, "nulls "+map[bool]string{true: "yes", false: "no"}[nulls], sa, sb, &a, &b)
	}
	_, err := db.ExecContext(ctx, `CREATE UNIQUE INDEX items_name ON items (name)`)
	dbtest.Must(t, err, "unique index")
	var dup Item
	setItem(&dup, false)
	dup.Name += " 0 (b)"
	count := func() int64 {
		n, err := db.NewSelect().Model((*Item)(nil)).Count(ctx)
		dbtest.Must(t, err, "count")
		return n
	}
	before := count()
	handled, err := pgread.InsertFields(ctx, db, w.table, w.returning, &dup, func() *bun.InsertQuery {
		return db.NewInsert().Model(&dup).Returning(w.returning)
	})
	if !handled || err == nil || !strings.Contains(err.Error(), "23505") || count() != before {
		t.Fatalf("duplicate: handled %v, %v, rows %d -> %d", handled, err, before, count())
	}
}

// TestUpdateFieldsIfVersion writes the same values into two rows, one
// with bun's UpdateQuery in a locked transaction (Tx.UpdateCommit) and
// one read with its version (Statement.ScanVersion) and updated on
// condition of it (UpdateFieldsIfVersion), and requires the same stored
// rows and returned objects. An update whose row changed after the read
// writes nothing and reports it.
func TestUpdateFieldsIfVersion(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil))
	seed(t, db)
	ctx := context.Background()
	w := newItemWrite(db)
	st := pgread.Prepare(db.NewSelect().Model(new(Item)).Where("?TableAlias.id = ?", pgread.Int64(0)).Limit(1), new(Item), 1)
	if st == nil {
		t.Fatal("Prepare: nil")
	}
	read := func(id int64) (*Item, uint32, *pgread.Session) {
		t.Helper()
		var it Item
		s := new(pgread.Session)
		version, handled, err := st.ScanVersion(ctx, s, db, &it, pgread.Int64(id))
		if !handled || err != nil || it.ID != id {
			t.Fatalf("ScanVersion %d: handled %v, %v, id %d", id, handled, err, it.ID)
		}
		return &it, version, s
	}
	for _, nulls := range []bool{false, true} {
		var a Item
		tx, handled, err := pgread.Load(ctx, db.NewSelect().Model(&a).Where("?TableAlias.id = ?", pgread.Int64(1)).For("UPDATE"), &a)
		if !handled || err != nil {
			t.Fatalf("Load: handled %v, %v", handled, err)
		}
		setItem(&a, nulls)
		err = tx.UpdateCommit(ctx, db.NewUpdate().Model(&a).Column(w.cols...).WherePK().Returning(w.returning), &a)
		tx.Close(ctx)
		dbtest.Must(t, err, "bun's update")

		held := models.Pool(db).Stat().AcquiredConns()
		b, version, s := read(2)
		setItem(b, nulls)
		n := queries(db)
		// The update runs on the read's connection and gives it back.
		acquires := models.Pool(db).Stat().AcquireCount()
		handled, updated, err := pgread.UpdateFieldsIfVersion(ctx, s, db, w.table, w.fields, w.returning, b, version)
		if !handled || !updated || err != nil || queries(db) != n {
			t.Fatalf("UpdateFieldsIfVersion: handled %v, updated %v, %v, bun queries %d", handled, updated, err, queries(db)-n)
		}
		if st := models.Pool(db).Stat(); st.AcquireCount() != acquires || st.AcquiredConns() != held {
			t.Fatalf("UpdateFieldsIfVersion took %d connections, and holds %d", st.AcquireCount()-acquires, st.AcquiredConns()-held)
		}
		sameItems(t, "update", storedItem(t, db, 1), storedItem(t, db, 2), &a, b)
	}

	// The row changes between the read and the update: nothing is
	// written, and the other writer's change stays.
	b, version, s := read(3)
	_, err := db.NewUpdate().Model((*Item)(nil)).Set("rank = 999").Where("id = 3").Exec(ctx)
	dbtest.Must(t, err, "concurrent update")
	b.Name = "not stored"
	handled, updated, err := pgread.UpdateFieldsIfVersion(ctx, s, db, w.table, w.fields, w.returning, b, version)
	if !handled || updated || err != nil {
		t.Fatalf("stale version: handled %v, updated %v, %v; want handled, not updated", handled, updated, err)
	}
	if s := storedItem(t, db, 3); s.Rank != 999 || s.Name == "not stored" {
		t.Fatalf("stale version: stored %s", dump(s))
	}
	// Read again, it updates.
	b, version, s = read(3)
	b.Name = "stored"
	if handled, updated, err := pgread.UpdateFieldsIfVersion(ctx, s, db, w.table, w.fields, w.returning, b, version); !handled || !updated || err != nil {
		t.Fatalf("fresh version: handled %v, updated %v, %v", handled, updated, err)
	}
	if s := storedItem(t, db, 3); s.Rank != 999 || s.Name != "stored" {
		t.Fatalf("fresh version: stored %s", dump(s))
	}
	// A missing row is not updated either.
	b.ID = 12345
	if handled, updated, err := pgread.UpdateFieldsIfVersion(ctx, new(pgread.Session), db, w.table, w.fields, w.returning, b, version); !handled || updated || err != nil {
		t.Fatalf("missing row: handled %v, updated %v, %v", handled, updated, err)
	}
}

// TestUpdateFieldsWhere: an update of the row its conditions select
// stores and returns what bun's update of the same fields does, field
// kind by field kind, in one statement on a connection it gives back;
// conditions no row meets write nothing; an argument that cannot be sent
// as text, or a count of ?s that is not the arguments', runs nothing.
func TestUpdateFieldsWhere(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil))
	seed(t, db)
	ctx := context.Background()
	w := newItemWrite(db)
	key := `"item"."id" = ?`
	for _, nulls := range []bool{false, true} {
		var a Item
		tx, handled, err := pgread.Load(ctx, db.NewSelect().Model(&a).Where("?TableAlias.id = ?", pgread.Int64(1)).For("UPDATE"), &a)
		if !handled || err != nil {
			t.Fatalf("Load: handled %v, %v", handled, err)
		}
		setItem(&a, nulls)
		err = tx.UpdateCommit(ctx, db.NewUpdate().Model(&a).Column(w.cols...).WherePK().Returning(w.returning), &a)
		tx.Close(ctx)
		dbtest.Must(t, err, "bun's update")

		b := new(Item)
		setItem(b, nulls)
		n, acquires := queries(db), models.Pool(db).Stat().AcquireCount()
		held := models.Pool(db).Stat().AcquiredConns()
		handled, updated, err := pgread.UpdateFieldsWhere(ctx, db, w.table, w.fields, w.returning, b,
			[]string{key, `"item"."active" = ? OR ? OR "item"."name" <> ?`}, []any{pgread.Int64(2), pgread.Arg(false), true, pgread.Arg("x")})
		if !handled || !updated || err != nil || queries(db) != n {
			t.Fatalf("UpdateFieldsWhere: handled %v, updated %v, %v, bun queries %d", handled, updated, err, queries(db)-n)
		}
		if st := models.Pool(db).Stat(); st.AcquireCount() != acquires+1 || st.AcquiredConns() != held {
			t.Fatalf("UpdateFieldsWhere took %d connections, and holds %d", st.AcquireCount()-acquires, st.AcquiredConns()-held)
		}
		if b.ID != 2 {
			t.Fatalf("returned id %d, want 2", b.ID)
		}
		sameItems(t, "update", storedItem(t, db, 1), storedItem(t, db, 2), &a, b)
	}

	// Conditions no row meets: nothing is written.
	before := storedItem(t, db, 3)
	b := new(Item)
	b.Name = "not stored"
	handled, updated, err := pgread.UpdateFieldsWhere(ctx, db, w.table, w.fields[:1], w.returning, b,
		[]string{key, `"item"."name" = ?`}, []any{int64(3), "someone else's"})
	if !handled || updated || err != nil {
		t.Fatalf("unmet condition: handled %v, updated %v, %v; want handled, not updated", handled, updated, err)
	}
	if s := storedItem(t, db, 3); dump(s) != dump(before) {
		t.Fatalf("unmet condition: stored %s, was %s", dump(s), dump(before))
	}
	// Arguments it cannot send run nothing.
	for name, args := range map[string][]any{
		"float":      {int64(3), 1.5},
		"NUL":        {int64(3), "a\x00b"},
		"too few":    {int64(3)},
		"too many":   {int64(3), "x", "y"},
		"float base": {pgread.Arg(2.5), "x"},
	} {
		n := models.Pool(db).Stat().AcquireCount()
		handled, _, err := pgread.UpdateFieldsWhere(ctx, db, w.table, w.fields[:1], w.returning, b, []string{key, `"item"."name" = ?`}, args)
		if handled || err != nil || models.Pool(db).Stat().AcquireCount() != n {
			t.Errorf("%s: handled %v, %v; want nothing run", name, handled, err)
		}
	}
	if s := storedItem(t, db, 3); dump(s) != dump(before) {
		t.Fatalf("stored %s, was %s", dump(s), dump(before))
	}
}

// TestDeleteWhere: a delete of the row its conditions select removes it
// and returns it as it was stored, in one statement; conditions no row
// meets delete nothing.
func TestDeleteWhere(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil))
	seed(t, db)
	ctx := context.Background()
	w := newItemWrite(db)
	stored := storedItem(t, db, 2)
	var got Item
	n := queries(db)
	handled, deleted, err := pgread.DeleteWhere(ctx, db, w.table, w.returning, &got,
		[]string{`"item"."id" = ?`, `"item"."name" = ?`}, []any{pgread.Int64(2), stored.Name})
	if !handled || !deleted || err != nil || queries(db) != n {
		t.Fatalf("DeleteWhere: handled %v, deleted %v, %v, bun queries %d", handled, deleted, err, queries(db)-n)
	}
	if dump(&got) != dump(stored) {
		t.Fatalf("returned %s, stored was %s", dump(&got), dump(stored))
	}
	if c, err := db.NewSelect().Model((*Item)(nil)).Where("id = 2").Count(ctx); err != nil || c != 0 {
		t.Fatalf("row 2: count %d, %v; want deleted", c, err)
	}
	// Conditions no row meets: nothing is deleted.
	handled, deleted, err = pgread.DeleteWhere(ctx, db, w.table, w.returning, new(Item),
		[]string{`"item"."id" = ?`, `"item"."name" = ?`}, []any{int64(3), "someone else's"})
	if !handled || deleted || err != nil {
		t.Fatalf("unmet condition: handled %v, deleted %v, %v", handled, deleted, err)
	}
	storedItem(t, db, 3) // fails the test when it is gone
}

// TestDeleteIfVersion: a delete on condition of the version read deletes
// the row; one whose row changed after the read deletes nothing and says
// so; one the database refuses (a restricting foreign key) is its error.
func TestDeleteIfVersion(t *testing.T) {
	db := dbtest.Postgres(t, (*Item)(nil))
	seed(t, db)
	ctx := context.Background()
	table := db.Dialect().Tables().Get(reflect.TypeFor[Item]())
	st := pgread.Prepare(db.NewSelect().Model(new(Item)).Where("?TableAlias.id = ?", pgread.Int64(0)).Limit(1), new(Item), 1)
	read := func(id int64) (*Item, uint32, *pgread.Session) {
		t.Helper()
		var it Item
		s := new(pgread.Session)
		version, handled, err := st.ScanVersion(ctx, s, db, &it, pgread.Int64(id))
		if !handled || err != nil {
			t.Fatalf("ScanVersion %d: handled %v, %v", id, handled, err)
		}
		return &it, version, s
	}
	exists := func(id int64) bool {
		ok, err := db.NewSelect().Model((*Item)(nil)).Where("id = ?", id).Exists(ctx)
		dbtest.Must(t, err, "exists")
		return ok
	}
	it, version, s := read(2)
	_, err := db.NewUpdate().Model((*Item)(nil)).Set("rank = 5").Where("id = 2").Exec(ctx)
	dbtest.Must(t, err, "concurrent update")
	if handled, deleted, err := pgread.DeleteIfVersion(ctx, s, db, table, it, version); !handled || deleted || err != nil || !exists(2) {
		t.Fatalf("stale version: handled %v, deleted %v, %v, row exists %v", handled, deleted, err, exists(2))
	}
	held := models.Pool(db).Stat().AcquiredConns()
	it, version, s = read(2)
	acquires := models.Pool(db).Stat().AcquireCount()
	handled, deleted, err := pgread.DeleteIfVersion(ctx, s, db, table, it, version)
	st2 := models.Pool(db).Stat()
	if !handled || !deleted || err != nil || exists(2) {
		t.Fatalf("fresh version: handled %v, deleted %v, %v, row exists %v", handled, deleted, err, exists(2))
	}
	// The delete ran on the read's connection and gave it back.
	if st2.AcquireCount() != acquires || st2.AcquiredConns() != held {
		t.Fatalf("DeleteIfVersion took %d connections, and holds %d", st2.AcquireCount()-acquires, st2.AcquiredConns()-held)
	}
	_, err = db.ExecContext(ctx, `CREATE TABLE item_refs (item_id bigint NOT NULL REFERENCES items (id) ON DELETE RESTRICT); INSERT INTO item_refs VALUES (1)`)
	dbtest.Must(t, err, "item_refs")
	it, version, s = read(1)
	if handled, deleted, err := pgread.DeleteIfVersion(ctx, s, db, table, it, version); !handled || deleted || err == nil || !strings.Contains(err.Error(), "23503") || !exists(1) {
		t.Fatalf("restricted: handled %v, deleted %v, %v, row exists %v", handled, deleted, err, exists(1))
	}
}
