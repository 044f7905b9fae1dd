// Package models holds the pieces Cosworth models are built from: Base (an
// int64 primary key and timestamps the framework maintains), the User and
// Token models, Open for a pooled PostgreSQL (pgx) or embedded SQLite bun.DB,
// idempotent schema creation, and the classification of database errors into
// typed values (ErrNotFound, ErrUnavailable, *ConstraintError).
package models
