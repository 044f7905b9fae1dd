package apitest_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/apitest"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// TestDBSQLite checks that DB without a database URL is a SQLite file in
// the test's temporary directory, with the tables created.
func TestDBSQLite(t *testing.T) {
	if !models.SQLiteBuiltIn {
		t.Skip("built without SQLite")
	}
	t.Setenv(apitest.DatabaseEnv, "")
	ctx := context.Background()
	var file string
	t.Run("test", func(t *testing.T) {
		db := apitest.DB(t, notesModels...)
		if name := db.Dialect().Name().String(); name != "sqlite" {
			t.Fatalf("dialect %s, want sqlite", name)
		}
		var seq int
		var name string
		if err := db.NewRaw("PRAGMA database_list").Scan(ctx, &seq, &name, &file); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(file, os.TempDir()) {
			t.Errorf("database file %s is not under %s", file, os.TempDir())
		}
		if _, err := db.NewInsert().Model(&Note{Text: "x", Owner: "a"}).Exec(ctx); err != nil {
			t.Fatalf("the notes table: %v", err)
		}
	})
	if file == "" {
		t.Fatal("no database file")
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("database file %s remains after the test: %v", file, err)
	}
}

// TestDBPostgres checks that DB with a PostgreSQL URL gives each test its
// own schema, with the tables created and the connections' search_path
// set, and drops the schema when the test ends.
func TestDBPostgres(t *testing.T) {
	admin := dbtest.Postgres(t) // skips (or fails when required) without PostgreSQL
	t.Setenv(apitest.DatabaseEnv, dbtest.PostgresURL())
	ctx := context.Background()
	schemas := map[string]bool{}
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			db := apitest.DB(t, notesModels...)
			var schema string
			if err := db.NewRaw("SELECT current_schema()").Scan(ctx, &schema); err != nil {
				t.Fatal(err)
			}
			if schemas[schema] || !strings.HasPrefix(schema, "t_") {
				t.Fatalf("schema %q: not a fresh test schema (seen %v)", schema, schemas)
			}
			schemas[schema] = true
			if _, err := db.NewInsert().Model(&Note{Text: "x", Owner: "a"}).Exec(ctx); err != nil {
				t.Fatalf("the notes table: %v", err)
			}
			var n int
			if err := db.NewSelect().Model((*Note)(nil)).ColumnExpr("count(*)").Scan(ctx, &n); err != nil || n != 1 {
				t.Fatalf("notes in a fresh schema: %d, %v", n, err)
			}
		})
	}
	if len(schemas) != 2 {
		t.Fatalf("schemas %v", schemas)
	}
	for s := range schemas {
		if exists(t, admin, s) {
			t.Errorf("schema %s remains after its test", s)
		}
	}
}

func exists(t *testing.T, db *bun.DB, schema string) bool {
	t.Helper()
	var n int
	if err := db.NewRaw("SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?", schema).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}
