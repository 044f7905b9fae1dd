// Package sqlcount runs the counts of packages that only shape queries
// (filters' check that a foreign key names a row) through the view's
// runner: package views installs pgread's Count, which runs the count as
// a statement prepared once per connection on PostgreSQL's pgx pool and
// falls back to bun elsewhere. Without views in the program, a count is
// bun's q.Count. This keeps internal/pgread imported by views alone.
package sqlcount

import (
	"context"

	"github.com/uptrace/bun"
)

var runner func(context.Context, *bun.SelectQuery) (int64, error)

// Use makes fn the runner of every Count. Call it from an init function
// only: Count reads it without a lock.
func Use(fn func(context.Context, *bun.SelectQuery) (int64, error)) { runner = fn }

// Count returns the number of rows q selects, as q.Count does.
func Count(ctx context.Context, q *bun.SelectQuery) (int64, error) {
	if runner != nil {
		return runner(ctx, q)
	}
	return q.Count(ctx)
}
