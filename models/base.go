package models

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Base is embedded in models for an int64 primary key and the creation and
// last-update timestamps, which the framework maintains through bun's
// BeforeAppendModel hook (so every insert and update made with bun sets
// them, whoever makes it):
//
//	type Author struct {
//		bun.BaseModel `bun:"table:authors"`
//		models.Base
//		Name string `bun:"name,notnull" json:"name" validate:"required,max=100"`
//	}
//
// All three fields are read-only in serializers; UpdatedAt is tagged
// auto_now (Field.AutoNow in the model plan), so views name its column in
// every UPDATE. Timestamps are UTC,
// truncated to microseconds so PostgreSQL and SQLite store and return equal
// values.
type Base struct {
	ID        int64     `bun:"id,pk,autoincrement" json:"id" cosworth:"read_only"`
	CreatedAt time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp" json:"created_at" cosworth:"read_only"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,notnull,default:current_timestamp" json:"updated_at" cosworth:"read_only,auto_now"`
}

// Now returns the current time the way Base stores it: UTC, truncated to
// microseconds.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// BeforeAppendModel is bun's hook, run when a query is built for a model
// embedding Base: an insert sets CreatedAt (unless already set) and
// UpdatedAt; an update sets UpdatedAt. An UPDATE that names its columns
// must include "updated_at" for the new value to be written.
func (b *Base) BeforeAppendModel(_ context.Context, q bun.Query) error {
	switch q.(type) {
	case *bun.InsertQuery:
		now := Now()
		if b.CreatedAt.IsZero() {
			b.CreatedAt = now
		} else {
			b.CreatedAt = b.CreatedAt.UTC().Truncate(time.Microsecond)
		}
		b.UpdatedAt = now
	case *bun.UpdateQuery:
		b.UpdatedAt = Now()
	}
	return nil
}

// AfterScanRow is bun's hook, run after a row is read into a model
// embedding Base: it puts the timestamps in time.UTC, whatever location
// the driver gave them.
func (b *Base) AfterScanRow(context.Context) error {
	b.CreatedAt = b.CreatedAt.UTC()
	b.UpdatedAt = b.UpdatedAt.UTC()
	return nil
}

var (
	_ bun.BeforeAppendModelHook = (*Base)(nil)
	_ bun.AfterScanRowHook      = (*Base)(nil)
)
