package models_test

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
)

// Poet has a computed field: the number of its poems.
type Poet struct {
	bun.BaseModel `bun:"table:poets,alias:poet"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Name          string `bun:"name,notnull" json:"name"`
	PoemCount     int64  `bun:"poem_count,scanonly" json:"poem_count"`
}

// Annotations computes poem_count.
func (*Poet) Annotations() map[string]string {
	return map[string]string{"poem_count": "SELECT count(*) FROM poems AS p WHERE p.poet_id = ?TableAlias.id"}
}

// Poem is a poet's poem.
type Poem struct {
	bun.BaseModel `bun:"table:poems,alias:poem"`
	ID            int64 `bun:"id,pk,autoincrement"`
	PoetID        int64 `bun:"poet_id,notnull"`
}

// A computed field is declared once, on the model; the model plan marks
// it computed and read-only, and the generic views select it with every
// read. A query of your own selects it the same way.
func ExampleAnnotator() {
	ctx := context.Background()
	db, err := models.Open(ctx, ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := models.CreateTables(ctx, db, (*Poet)(nil), (*Poem)(nil)); err != nil {
		panic(err)
	}
	poets := []Poet{{Name: "Le Guin"}, {Name: "Lem"}}
	if _, err := db.NewInsert().Model(&poets).Exec(ctx); err != nil {
		panic(err)
	}
	poems := []Poem{{PoetID: 1}, {PoetID: 1}, {PoetID: 2}}
	if _, err := db.NewInsert().Model(&poems).Exec(ctx); err != nil {
		panic(err)
	}

	meta, err := models.MetaOf[Poet]()
	if err != nil {
		panic(err)
	}
	f := meta.Field("poem_count")
	fmt.Printf("computed=%v read_only=%v column=%q expr=%q\n", f.Computed, f.ReadOnly, f.Column, f.Expr)

	var got []Poet
	err = db.NewSelect().Model(&got).ColumnExpr("?TableAlias.*").
		ColumnExpr("("+f.Expr+") AS ?", bun.Ident(f.SelectAs)).OrderExpr("id").Scan(ctx)
	if err != nil {
		panic(err)
	}
	for _, w := range got {
		fmt.Println(w.Name, w.PoemCount)
	}
	// Output:
	// computed=true read_only=true column="" expr="SELECT count(*) FROM poems AS p WHERE p.poet_id = ?TableAlias.id"
	// Le Guin 2
	// Lem 1
}
