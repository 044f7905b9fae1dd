package models_test

import (
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

type slugAuthor struct {
	bun.BaseModel `bun:"table:slug_authors,alias:author"`
	ID            int64  `bun:",pk,autoincrement" json:"id"`
	Name          string `bun:"name,notnull,unique" json:"name"`
}

// TestLookupPK finds primary keys by a unique field, the value bound as a
// parameter, on PostgreSQL and SQLite.
func TestLookupPK(t *testing.T) {
	for name, open := range dbtest.Dialects(t, (*slugAuthor)(nil)) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := t.Context()
			_, err := db.NewInsert().Model(&[]slugAuthor{{Name: "ursula"}, {Name: "o'brien"}}).Exec(ctx)
			dbtest.Must(t, err, "authors")
			lookup := models.LookupPK[slugAuthor](db, "name")
			for value, want := range map[string]int64{"ursula": 1, "o'brien": 2} {
				if id, err := lookup(ctx, value); err != nil || id != want {
					t.Errorf("%q: %d, %v; want %d", value, id, err, want)
				}
			}
			for _, value := range []string{"nobody", "x' OR '1'='1", ""} {
				if _, err := lookup(ctx, value); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%q: %v, want ErrNotFound", value, err)
				}
			}
			defer func() {
				if recover() == nil {
					t.Error("LookupPK of a field that is not a column did not panic")
				}
			}()
			models.LookupPK[slugAuthor](db, "nickname")
		})
	}
}
