package views_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/views"
)

// sqlLog records the SQL text and arguments of every query the pgx pool
// runs (bun's fallback path included: it runs on the same pool).
type sqlLog struct {
	mu   sync.Mutex
	sqls []string
	args [][]any
}

func (l *sqlLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	// A copy: the runner reuses its argument slices once the query is done.
	var args []any
	for _, a := range d.Args {
		if _, mode := a.(pgx.QueryExecMode); mode {
			continue
		}
		if v := reflect.ValueOf(a); v.Kind() == reflect.Pointer && !v.IsNil() {
			a = v.Elem().Interface()
		}
		args = append(args, a)
	}
	l.sqls, l.args = append(l.sqls, d.SQL), append(l.args, args)
	l.mu.Unlock()
	return ctx
}

func (l *sqlLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *sqlLog) reset() {
	l.mu.Lock()
	l.sqls, l.args = nil, nil
	l.mu.Unlock()
}

// count returns the number of queries whose text contains s.
func (l *sqlLog) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, q := range l.sqls {
		if strings.Contains(q, s) {
			n++
		}
	}
	return n
}

// authorCheck returns the query that checked the author keys, and its
// arguments.
func (l *sqlLog) authorCheck(t *testing.T) (string, []any) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range l.sqls {
		if strings.Contains(s, `FROM "authors"`) {
			return s, l.args[i]
		}
	}
	t.Fatalf("no query on authors among %q", l.sqls)
	return "", nil
}

// TestFilterKeyCheckPrepared: the check that an ?author= or ?author__in=
// value names an author runs as the view's own counts do on PostgreSQL
// (one SQL text per number of keys, the keys as parameters), and still
// answers DRF's invalid-choice message for a key that names no row. An
// exact key is checked only when the list is empty (a book of author 1
// proves author 1 exists): ?author=1 is one query, the list's.
func TestFilterKeyCheckPrepared(t *testing.T) {
	dsn, _ := dbtest.PostgresSchemaURL(t)
	log := &sqlLog{}
	db, err := models.Open(t.Context(), dsn, models.WithTracer(log))
	dbtest.Must(t, err, "open")
	t.Cleanup(func() { _ = db.Close() })
	dbtest.Must(t, models.CreateTables(t.Context(), db, allModels...), "tables")
	seedBooks(t, db, "alice", "bob")
	h := &views.ListView[Book]{DB: db, Filter: []string{"author", "author__in"}}
	paged := &views.ListView[Book]{DB: db, Filter: []string{"author", "author__in"}, Paginator: pagination.PageNumber{}}

	const choice = `{"author":["Select a valid choice. That choice is not one of the available choices."]}`
	const choiceIn = `{"author__in":["Select a valid choice. That choice is not one of the available choices."]}`
	tests := []struct {
		path string
		code int
		body string // for a 400
		sql  string // the check's SQL text: the same for every key; "" for none
		args string // the check's arguments, as fmt prints them
	}{
		{path: "/books/?author=1", code: 200},                           // books of author 1: no check
		{path: "/books/?author=2", code: 200, sql: `= $1`, args: "[2]"}, // no book: checked, exists
		{path: "/books/?author=9", code: 400, body: choice, sql: `= $1`, args: "[9]"},
		{path: "/books/?author__in=1,2,1", code: 200, sql: `IN ($1, $2)`, args: "[1 2]"},
		{path: "/books/?author__in=2,9", code: 400, body: choiceIn, sql: `IN ($1, $2)`, args: "[2 9]"},
		// Another bad parameter: the exact check runs after it, and
		// one 400 lists both, in the filters' order.
		{path: "/books/?author=9&author__in=2,9", code: 400, body: `{"author":["Select a valid choice. That choice is not one of the available choices."],"author__in":["Select a valid choice. That choice is not one of the available choices."]}`, sql: `IN ($1, $2)`, args: "[2 9]"},
		// The filter's 400 comes before the paginator's 404, as in DRF.
		{path: "/paged/?author=9&page=5", code: 400, body: choice, sql: `= $1`, args: "[9]"},
		// A page past the end shows no book: the key is checked.
		{path: "/paged/?author=1&page=5", code: 404, sql: `= $1`, args: "[1]"},
	}
	texts := map[string]string{}
	for _, tc := range tests {
		log.reset()
		var w *httptest.ResponseRecorder
		if strings.HasPrefix(tc.path, "/paged/") {
			w = do(paged, "GET", tc.path, "")
		} else {
			w = do(h, "GET", tc.path, "")
		}
		if w.Code != tc.code {
			t.Fatalf("%s: %d %s", tc.path, w.Code, w.Body)
		}
		if tc.body != "" && !jsonEqual(w.Body.Bytes(), []byte(tc.body)) {
			t.Errorf("%s: body %s, want %s", tc.path, w.Body, tc.body)
		}
		if tc.sql == "" {
			if n := log.count(`FROM "authors"`); n != 0 {
				t.Errorf("%s: %d queries on authors, want none", tc.path, n)
			}
			continue
		}
		sql, args := log.authorCheck(t)
		if !strings.Contains(sql, tc.sql) || !strings.HasPrefix(sql, "SELECT count(*)") {
			t.Errorf("%s: check ran %q, want a count with %q", tc.path, sql, tc.sql)
		}
		if prev, ok := texts[tc.sql]; ok && prev != sql {
			t.Errorf("%s: check's SQL text %q differs from %q for the same number of keys", tc.path, sql, prev)
		}
		texts[tc.sql] = sql
		if got := fmt.Sprint(args); got != tc.args {
			t.Errorf("%s: check's arguments %q, want %q", tc.path, got, tc.args)
		}
	}
}
