package models_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
)

type Writer struct {
	bun.BaseModel `bun:"table:writers"`
	models.Base
	Email string `bun:"email,notnull,unique" json:"email"`
}

type Novel struct {
	bun.BaseModel `bun:"table:novels"`
	models.Base
	Title    string       `bun:"title,notnull" json:"title"`
	WriterID int64        `bun:"writer_id,notnull" json:"writer"`
	Writer   *Writer      `bun:"rel:belongs-to,join:writer_id=id,on_delete:cascade" json:"-"`
	Out      *models.Date `bun:"out,type:date" json:"out"`
}

// CreateTables makes the schema (idempotently); Base's hook fills the
// timestamps; deleting a writer cascades to their novels; and Classify
// turns what the database refuses into typed errors.
func Example() {
	ctx := context.Background()
	db, err := models.Open(ctx, ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := models.CreateTables(ctx, db, (*Writer)(nil), (*Novel)(nil)); err != nil {
		panic(err)
	}

	w := &Writer{Email: "ann@example.com"}
	_, err = db.NewInsert().Model(w).Exec(ctx)
	fmt.Println(err, w.ID, !w.CreatedAt.IsZero(), w.CreatedAt.Equal(w.UpdatedAt))

	out, _ := models.ParseDate("1818-01-01")
	_, err = db.NewInsert().Model(&Novel{Title: "Frankenstein", WriterID: w.ID, Out: &out}).Exec(ctx)
	fmt.Println(err)

	_, err = db.NewInsert().Model(&Writer{Email: "ann@example.com"}).Exec(ctx)
	var ce *models.ConstraintError
	if errors.As(models.Classify(err), &ce) {
		fmt.Println(ce.Kind, ce.Table, ce.Columns)
	}

	_, err = db.NewInsert().Model(&Novel{Title: "Orphan", WriterID: 99}).Exec(ctx)
	if errors.As(models.Classify(err), &ce) {
		fmt.Println(ce.Kind)
	}

	err = db.NewSelect().Model(&Novel{}).Where("title = ?", "Dracula").Scan(ctx)
	fmt.Println(errors.Is(models.Classify(err), models.ErrNotFound))

	_, _ = db.NewDelete().Model(w).WherePK().Exec(ctx)
	n, _ := db.NewSelect().Model((*Novel)(nil)).Count(ctx)
	fmt.Println("novels left:", n)
	// Output:
	// <nil> 1 true true
	// <nil>
	// unique writers [email]
	// foreign key
	// true
	// novels left: 0
}

func ExampleParseDate() {
	d, err := models.ParseDate("2024-2-29")
	fmt.Println(d, err)
	_, err = models.ParseDate("2023-02-29")
	fmt.Println(err)
	// Output:
	// 2024-02-29 <nil>
	// cosworth/models: date must be YYYY-MM-DD
}
