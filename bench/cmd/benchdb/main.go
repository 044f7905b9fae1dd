// Command benchdb creates and drops the PostgreSQL schema the benchmark
// servers share (see package bookdb).
//
//	benchdb create -db postgres://... [-books 1000] [-authors 50]
//	    creates a fresh schema, seeds it, and prints a URL whose
//	    connections use it (search_path) on stdout
//	benchdb reset -db URL_WITH_SEARCH_PATH [-books 1000]
//	    deletes the books added after seeding (ids above -books) and
//	    vacuums, so later measurements see the seeded table size
//	benchdb drop -db postgres://... [-schema NAME]
//	    drops the schema (by default the one in the URL's search_path)
//	    and everything in it
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cosworth/cosworth/bench/bookdb"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchdb:", err)
		os.Exit(1)
	}
}

var schemaName = regexp.MustCompile(`^bench_[0-9a-f]{12}$`)

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: benchdb create|reset|drop -db URL [...]")
	}
	fs := flag.NewFlagSet("benchdb "+args[0], flag.ContinueOnError)
	dsn := fs.String("db", os.Getenv("COSWORTH_PG"), "PostgreSQL `URL` [COSWORTH_PG]")
	books := fs.Int("books", bookdb.DefaultBooks, "books to seed")
	authors := fs.Int("authors", bookdb.DefaultAuthors, "authors to seed")
	schema := fs.String("schema", "", "schema to drop (bench_ and 12 hex digits); default: the URL's search_path")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("-db is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, *dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	switch args[0] {
	case "create":
		var b [6]byte
		_, _ = rand.Read(b[:])
		name := "bench_" + hex.EncodeToString(b[:])
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.Background())
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+name+"; SET LOCAL search_path TO "+name); err != nil {
			return err
		}
		if err := bookdb.Create(ctx, tx, *books, *authors); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		u, err := url.Parse(*dsn)
		if err != nil {
			return err
		}
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		fmt.Println(u.String())
		return nil
	case "reset":
		if _, err := conn.Exec(ctx, "DELETE FROM books WHERE id > $1", *books); err != nil {
			return err
		}
		_, err := conn.Exec(ctx, "VACUUM ANALYZE books")
		return err
	case "drop":
		if *schema == "" {
			if u, err := url.Parse(*dsn); err == nil {
				*schema = u.Query().Get("search_path")
			}
		}
		if !schemaName.MatchString(*schema) {
			return fmt.Errorf("-schema %q is not a benchdb schema name", *schema)
		}
		_, err := conn.Exec(ctx, "DROP SCHEMA "+*schema+" CASCADE")
		return err
	}
	return fmt.Errorf("unknown command %q", args[0])
}
