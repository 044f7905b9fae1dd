//go:build !nopgxregisterdefaulttypes

package models

import "github.com/jackc/pgx/v5/pgtype"

// registerPgTypes is nil: pgx's default type map already maps Go types to
// PostgreSQL types (see pgtypes_nodefault.go).
var registerPgTypes func(*pgtype.Map)
