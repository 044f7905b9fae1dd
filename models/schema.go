package models

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// CreateTables creates the tables of the given models (pointers to zero
// structs, e.g. (*Book)(nil)) if they do not exist, in one transaction, in
// the order given (a referenced table first). It is idempotent.
//
// Columns tagged bun:"unique" (or "unique:group") get UNIQUE constraints.
// Foreign keys come from two places:
//
//   - bun belongs-to relations, e.g.
//     Author *Author `bun:"rel:belongs-to,join:author_id=id,on_delete:cascade" json:"-"`
//   - the References method of a model implementing Referencer, for a
//     plain id column without a relation field.
//
// It returns the first error, classified (see Classify).
func CreateTables(ctx context.Context, db *bun.DB, modelsToCreate ...any) error {
	for _, m := range modelsToCreate {
		if m == nil {
			return errors.New("cosworth/models: CreateTables: nil model; pass a typed pointer such as (*Book)(nil)")
		}
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, m := range modelsToCreate {
			q := tx.NewCreateTable().Model(m).IfNotExists().WithForeignKeys()
			if r, ok := m.(Referencer); ok {
				for _, ref := range r.References() {
					if err := ref.check(); err != nil {
						return err
					}
					q = q.ForeignKey("(?) REFERENCES ? (?) ON DELETE "+ref.onDelete(),
						bun.Ident(ref.Column), bun.Ident(ref.Table), bun.Ident(ref.refColumn()))
				}
			}
			if _, err := q.Exec(ctx); err != nil {
				return fmt.Errorf("cosworth/models: create table for %T: %w", m, err)
			}
		}
		return nil
	})
	return Classify(err)
}

// Reference declares a foreign key from a plain column of a model to
// another table, for CreateTables.
type Reference struct {
	Column    string // the referencing column, e.g. "author_id"
	Table     string // the referenced table, e.g. "authors"
	RefColumn string // the referenced column; "" means "id"
	// OnDelete is what deleting the referenced row does: "CASCADE",
	// "SET NULL", "RESTRICT" or "NO ACTION" ("" means "NO ACTION").
	OnDelete string
}

// Referencer is implemented by a model whose plain id columns reference
// other tables; CreateTables adds their foreign keys:
//
//	func (*Book) References() []models.Reference {
//		return []models.Reference{{Column: "author_id", Table: "authors", OnDelete: "CASCADE"}}
//	}
type Referencer interface {
	References() []Reference
}

func (r Reference) refColumn() string {
	if r.RefColumn == "" {
		return "id"
	}
	return r.RefColumn
}

func (r Reference) onDelete() string {
	if r.OnDelete == "" {
		return "NO ACTION"
	}
	return strings.ToUpper(r.OnDelete)
}

func (r Reference) check() error {
	if r.Column == "" || r.Table == "" {
		return fmt.Errorf("cosworth/models: Reference %+v needs a Column and a Table", r)
	}
	switch r.onDelete() {
	case "CASCADE", "SET NULL", "RESTRICT", "NO ACTION", "SET DEFAULT":
		return nil
	}
	return fmt.Errorf("cosworth/models: Reference to %s: OnDelete %q is not CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION", r.Table, r.OnDelete)
}
