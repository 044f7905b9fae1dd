//go:build cosworth_nosqlite

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Built without SQLite (the Docker image's build), the bookstore refuses to
// start without a PostgreSQL URL, before opening anything, and says what
// to set. Run by scripts/test.sh with -tags cosworth_nosqlite.
func TestNoSQLiteStart(t *testing.T) {
	for _, env := range []map[string]string{{}, {"DATABASE_URL": "bookstore.db"}, {"DATABASE_URL": "sqlite::memory:"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"bookstore", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, &stderr)
		if err == nil {
			t.Fatalf("%v: started without a PostgreSQL URL", env)
		}
		for _, want := range []string{"-tags cosworth_nosqlite", "DATABASE_URL=postgres://"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: %q does not say %q", env, err, want)
			}
		}
		if stderr.Len() != 0 {
			t.Errorf("%v: logged before failing: %s", env, stderr.String())
		}
	}
	// -healthcheck needs no database.
	if _, err := parseConfig([]string{"bookstore", "-healthcheck"}, func(string) string { return "" }, &bytes.Buffer{}); err != nil {
		t.Errorf("-healthcheck: %v", err)
	}
}
