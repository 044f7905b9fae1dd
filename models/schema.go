package models

import (
	"context"

	"github.com/uptrace/bun"
)

// CreateTables creates the tables of the given models (pointers to zero
// structs, e.g. (*Book)(nil)) if they do not exist, with their foreign keys,
// in one transaction. It is idempotent.
func CreateTables(ctx context.Context, db *bun.DB, modelsToCreate ...any) error {
	panic("TODO")
}
