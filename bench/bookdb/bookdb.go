// Package bookdb creates and seeds the PostgreSQL schema the performance
// benchmarks share: the books, authors and users tables of the bookstore
// contract, so the hand-written baseline and the Cosworth server read and
// write the very same rows.
package bookdb

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// Execer runs SQL; *pgxpool.Pool, *pgx.Conn and pgx.Tx satisfy it.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Schema creates the tables. Column names are those both servers map:
// books.author_id is the JSON "author"; books.owner holds the owner's
// username (the contract's "owner"), as the Cosworth examples store it, so
// neither server joins users to answer.
const Schema = `
CREATE TABLE users (
	id bigserial PRIMARY KEY,
	username varchar(150) NOT NULL UNIQUE,
	is_staff boolean NOT NULL DEFAULT false
);
CREATE TABLE authors (
	id bigserial PRIMARY KEY,
	name varchar(100) NOT NULL,
	email varchar(254) NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE books (
	id bigserial PRIMARY KEY,
	title varchar(200) NOT NULL,
	isbn varchar(13) NOT NULL UNIQUE,
	author_id bigint NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
	price_cents bigint NOT NULL CHECK (price_cents >= 0),
	published_on date,
	owner varchar(150) NOT NULL REFERENCES users (username),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX books_author_id ON books (author_id);
CREATE INDEX books_owner ON books (owner);
`

// The seeded users. BenchUser owns the odd-numbered books, OtherUser the
// even ones; writes in the benchmarks authenticate as BenchUser.
const (
	BenchUserID   = 1
	BenchUsername = "bench"
	OtherUserID   = 2
	OtherUsername = "other"
)

// Default sizes of the seed.
const (
	DefaultBooks   = 1000
	DefaultAuthors = 50
)

// Create creates the tables in the current schema (the connection's
// search_path) and seeds them with nAuthors authors and nBooks books. The
// data is deterministic: titles include characters JSON must escape
// (quotes, <, >, &, non-ASCII), some books have no published_on, and the
// created_at timestamps have microseconds, including some that are zero, so
// every encoding path is exercised.
func Create(ctx context.Context, db Execer, nBooks, nAuthors int) error {
	if nAuthors < 1 || nBooks < 0 {
		return fmt.Errorf("bookdb: need at least one author and no negative book count")
	}
	if _, err := db.Exec(ctx, Schema); err != nil {
		return fmt.Errorf("bookdb: create tables: %w", err)
	}
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"users", `INSERT INTO users (id, username, is_staff) VALUES ($1, $2, false), ($3, $4, false)`,
			[]any{BenchUserID, BenchUsername, OtherUserID, OtherUsername}},
		{"authors", `INSERT INTO authors (id, name, email, created_at)
			SELECT i, 'Author ' || i, 'author' || i || '@example.com',
				timestamptz '2020-01-01 00:00:00+00' + i * interval '1 day'
			FROM generate_series(1, $1::int) AS i`, []any{nAuthors}},
		{"books", `INSERT INTO books (id, title, isbn, author_id, price_cents, published_on, owner, created_at)
			SELECT i,
				CASE i % 7
					WHEN 0 THEN 'The "Quoted" Book & <Co> ' || i
					WHEN 3 THEN 'Café Straße № ' || i
					ELSE 'Book ' || lpad(i::text, 5, '0')
				END,
				'978' || lpad(i::text, 10, '0'),
				1 + (i % $2::int),
				(i * 137) % 10000,
				CASE WHEN i % 5 = 0 THEN NULL ELSE date '1990-01-01' + (i * 3) END,
				CASE WHEN i % 2 = 1 THEN $3 ELSE $4 END,
				timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute'
					+ CASE WHEN i % 10 = 0 THEN interval '0' ELSE (i * 7919 % 1000000) * interval '1 microsecond' END
			FROM generate_series(1, $1::int) AS i`, []any{nBooks, nAuthors, BenchUsername, OtherUsername}},
		{"sequences", `SELECT setval('users_id_seq', 2), setval('authors_id_seq', $1::bigint),
			setval('books_id_seq', greatest($2::bigint, 1))`, []any{nAuthors, nBooks}},
	}
	for _, s := range steps {
		if _, err := db.Exec(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("bookdb: seed %s: %w", s.what, err)
		}
	}
	if _, err := db.Exec(ctx, `ANALYZE users; ANALYZE authors; ANALYZE books`); err != nil {
		return fmt.Errorf("bookdb: analyze: %w", err)
	}
	return nil
}
