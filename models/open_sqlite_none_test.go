//go:build cosworth_nosqlite

package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/models"
)

// Without SQLite, Open refuses every SQLite DSN up front, saying which tag
// removed it and what to give instead. Run by scripts/test.sh with
// -tags cosworth_nosqlite.
func TestNoSQLite(t *testing.T) {
	if models.SQLiteBuiltIn {
		t.Fatal("SQLiteBuiltIn is true under -tags cosworth_nosqlite")
	}
	for _, dsn := range []string{"bookstore.db", "sqlite::memory:", ":memory:", "sqlite:///tmp/x.db", ""} {
		db, err := models.Open(context.Background(), dsn)
		if db != nil || !errors.Is(err, models.ErrNoSQLite) {
			t.Fatalf("Open(%q) = %v, %v; want ErrNoSQLite", dsn, db, err)
		}
		for _, want := range []string{"-tags cosworth_nosqlite", "postgres://", "build without the tag"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Open(%q): %q does not say %q", dsn, err, want)
			}
		}
	}
}
