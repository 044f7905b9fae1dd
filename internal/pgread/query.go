package pgread

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// QueryRow runs sql with args (bound parameters) on the transaction's
// connection, for a read a write needs inside its transaction (the views'
// unique and foreign-key lookups).
func (tx *Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return tx.conn.QueryRow(ctx, sql, args...)
}
