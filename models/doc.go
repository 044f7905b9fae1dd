// Package models holds the pieces Cosworth models are built from: Base (an
// int64 primary key and timestamps the framework maintains), Date (a civil
// date column), the User and Token models, Open for a pooled PostgreSQL
// (pgx) or embedded SQLite bun.DB, idempotent schema creation with unique
// constraints and foreign keys (CreateTables, Referencer), and the
// classification of database errors into typed values (ErrNotFound,
// ErrUnavailable, *ConstraintError) by Classify.
//
// docs/models.md explains each in turn.
package models
