package models_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/models"
)

type Author struct {
	bun.BaseModel `bun:"table:authors"`
	models.Base
	Name  string `bun:"name,notnull" json:"name"`
	Email string `bun:"email,notnull,unique" json:"email"`
}

// Book references its author through a plain column (models.Referencer).
type Book struct {
	bun.BaseModel `bun:"table:books"`
	models.Base
	Title       string       `bun:"title,notnull" json:"title"`
	AuthorID    int64        `bun:"author_id,notnull" json:"author"`
	PublishedOn *models.Date `bun:"published_on,type:date" json:"published_on"`
	Released    models.Date  `bun:"released,type:date" json:"released"`
}

func (*Book) References() []models.Reference {
	return []models.Reference{{Column: "author_id", Table: "authors", OnDelete: "cascade"}}
}

// Review references its book through a bun belongs-to relation.
type Review struct {
	bun.BaseModel `bun:"table:reviews"`
	models.Base
	BookID int64 `bun:"book_id,notnull" json:"book"`
	Book   *Book `bun:"rel:belongs-to,join:book_id=id,on_delete:cascade" json:"-"`
	Stars  int   `bun:"stars,notnull" json:"stars"`
}

var allModels = []any{(*Author)(nil), (*Book)(nil), (*Review)(nil)}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestBaseTimestamps(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db, c := open(t), ctx(t)
			before := time.Now().UTC().Add(-time.Second)
			a := &Author{Name: "Ann", Email: "ann@example.com"}
			if _, err := db.NewInsert().Model(a).Returning("*").Exec(c); err != nil {
				t.Fatal(err)
			}
			if a.ID == 0 || a.CreatedAt.Before(before) || !a.UpdatedAt.Equal(a.CreatedAt) {
				t.Fatalf("after insert: id %d created %v updated %v", a.ID, a.CreatedAt, a.UpdatedAt)
			}
			if a.CreatedAt.Location() != time.UTC {
				t.Errorf("created_at not UTC: %v", a.CreatedAt)
			}
			if a.CreatedAt.Nanosecond()%1000 != 0 {
				t.Errorf("created_at not truncated to microseconds: %v", a.CreatedAt)
			}
			var got Author
			if err := db.NewSelect().Model(&got).Where("id = ?", a.ID).Scan(c); err != nil {
				t.Fatal(err)
			}
			if got.CreatedAt != a.CreatedAt || got.UpdatedAt != a.UpdatedAt {
				t.Fatalf("round trip: stored %v/%v, read %v/%v", a.CreatedAt, a.UpdatedAt, got.CreatedAt, got.UpdatedAt)
			}
			// Bulk inserts run the hook for every row.
			many := []Author{{Name: "X", Email: "x@example.com"}, {Name: "Y", Email: "y@example.com"}}
			if _, err := db.NewInsert().Model(&many).Exec(c); err != nil {
				t.Fatal(err)
			}
			for _, m := range many {
				if m.CreatedAt.IsZero() || m.UpdatedAt.IsZero() {
					t.Errorf("bulk insert left timestamps zero: %+v", m)
				}
			}
			created := got.CreatedAt
			time.Sleep(2 * time.Millisecond)
			got.Name = "Anne"
			if _, err := db.NewUpdate().Model(&got).WherePK().Exec(c); err != nil {
				t.Fatal(err)
			}
			var again Author
			if err := db.NewSelect().Model(&again).Where("id = ?", a.ID).Scan(c); err != nil {
				t.Fatal(err)
			}
			if !again.CreatedAt.Equal(created) || !again.UpdatedAt.After(created) || again.Name != "Anne" {
				t.Fatalf("after update: created %v (was %v) updated %v", again.CreatedAt, created, again.UpdatedAt)
			}
		})
	}
}

func TestCreateTablesIdempotentWithCascade(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db, c := open(t), ctx(t)
			// A second run changes nothing and fails on nothing.
			if err := models.CreateTables(c, db, allModels...); err != nil {
				t.Fatalf("second CreateTables: %v", err)
			}
			a := &Author{Name: "A", Email: "a@example.com"}
			dbtest.Must(t, insert(c, db, a), "insert author")
			b := &Book{Title: "T", AuthorID: a.ID}
			dbtest.Must(t, insert(c, db, b), "insert book")
			r := &Review{BookID: b.ID, Stars: 5}
			dbtest.Must(t, insert(c, db, r), "insert review")
			if _, err := db.NewDelete().Model(a).WherePK().Exec(c); err != nil {
				t.Fatal(err)
			}
			for _, m := range []any{(*Book)(nil), (*Review)(nil)} {
				n, err := db.NewSelect().Model(m).Count(c)
				if err != nil || n != 0 {
					t.Errorf("%T rows after deleting the author: %d, %v (want 0: ON DELETE CASCADE)", m, n, err)
				}
			}
		})
	}
}

func insert(c context.Context, db bun.IDB, m any) error {
	_, err := db.NewInsert().Model(m).Returning("*").Exec(c)
	return models.Classify(err)
}

func TestCreateTablesRejectsBadReference(t *testing.T) {
	db := dbtest.SQLite(t)
	err := models.CreateTables(ctx(t), db, (*badRef)(nil))
	if err == nil || !strings.Contains(err.Error(), "OnDelete") {
		t.Fatalf("err = %v, want an OnDelete error", err)
	}
	if err := models.CreateTables(ctx(t), db, nil); err == nil {
		t.Fatal("nil model accepted")
	}
}

type badRef struct {
	bun.BaseModel `bun:"table:bad"`
	ID            int64 `bun:"id,pk"`
	X             int64 `bun:"x"`
}

func (*badRef) References() []models.Reference {
	return []models.Reference{{Column: "x", Table: "authors", OnDelete: "DROP TABLE"}}
}

func TestClassifyConstraints(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db, c := open(t), ctx(t)
			a := &Author{Name: "A", Email: "dup@example.com"}
			dbtest.Must(t, insert(c, db, a), "insert author")
			_, err := db.ExecContext(c, "CREATE TABLE checked (id INTEGER PRIMARY KEY, n INTEGER CONSTRAINT n_positive CHECK (n > 0))")
			dbtest.Must(t, err, "create checked")

			tests := []struct {
				name    string
				do      func() error
				kind    models.ConstraintKind
				table   string
				columns []string // nil: not checked (the database does not say)
			}{
				{"unique", func() error { return insert(c, db, &Author{Name: "B", Email: "dup@example.com"}) },
					models.Unique, "authors", []string{"email"}},
				{"primary key", func() error {
					return insert(c, db, &Author{Base: models.Base{ID: a.ID}, Name: "C", Email: "c@example.com"})
				},
					models.Unique, "authors", []string{"id"}},
				{"foreign key", func() error { return insert(c, db, &Book{Title: "T", AuthorID: a.ID + 1000}) },
					models.ForeignKey, "books", fkColumns(name)},
				{"not null", func() error {
					_, err := db.NewInsert().Model(&Author{Name: "D"}).Value("email", "NULL").Exec(c)
					return models.Classify(err)
				}, models.NotNull, "authors", []string{"email"}},
				{"check", func() error {
					_, err := db.ExecContext(c, "INSERT INTO checked (id, n) VALUES (1, -1)")
					return models.Classify(err)
				}, models.Check, "", nil},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					err := tt.do()
					var ce *models.ConstraintError
					if !errors.As(err, &ce) {
						t.Fatalf("err = %v (%T), want *ConstraintError", err, err)
					}
					if ce.Kind != tt.kind {
						t.Errorf("Kind = %v, want %v", ce.Kind, tt.kind)
					}
					if tt.table != "" && !(ce.Table == tt.table || name == "sqlite" && tt.kind == models.ForeignKey) {
						t.Errorf("Table = %q, want %q", ce.Table, tt.table)
					}
					if tt.columns != nil && !slices.Equal(ce.Columns, tt.columns) {
						t.Errorf("Columns = %q, want %q", ce.Columns, tt.columns)
					}
					if tt.kind == models.Check && ce.Constraint != "n_positive" {
						t.Errorf("Constraint = %q, want n_positive", ce.Constraint)
					}
					if ce.Unwrap() == nil || !strings.Contains(ce.Error(), tt.kind.String()) {
						t.Errorf("Error() = %q, Unwrap() = %v", ce.Error(), ce.Unwrap())
					}
					if again := models.Classify(err); again != err {
						t.Errorf("Classify is not idempotent: %v", again)
					}
				})
			}
		})
	}
}

func fkColumns(dialect string) []string {
	if dialect == "sqlite" {
		return []string{} // SQLite's message names no column
	}
	return []string{"author_id"}
}

func TestClassifyNotFoundAndPassThrough(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db, c := open(t), ctx(t)
			err := models.Classify(db.NewSelect().Model(&Author{}).Where("id = ?", 12345).Scan(c))
			if !errors.Is(err, models.ErrNotFound) || !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("missing row: %v, want ErrNotFound wrapping sql.ErrNoRows", err)
			}
			_, raw := db.ExecContext(c, "SELEC 1")
			if err := models.Classify(raw); err != raw || raw == nil {
				t.Errorf("syntax error: Classify = %v, want the error unchanged (%v)", err, raw)
			}
			canceled, cancel := context.WithCancel(c)
			cancel()
			_, raw = db.ExecContext(canceled, "SELECT 1")
			if err := models.Classify(raw); !errors.Is(err, context.Canceled) || errors.Is(err, models.ErrUnavailable) {
				t.Errorf("canceled: Classify = %v, want context.Canceled unchanged", err)
			}
		})
	}
	if models.Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
	other := errors.New("other")
	if models.Classify(other) != other {
		t.Error("an unrelated error was changed")
	}
}

// TestClassifyUnavailable cuts a loopback proxy between the pool and
// PostgreSQL: a query on a connection that was open, and a query that
// needs a new connection, both become ErrUnavailable.
func TestClassifyUnavailable(t *testing.T) {
	dsn, _ := dbtest.PostgresSchemaURL(t)
	proxy := faultproxy.Start(t, hostPort(t, dsn))
	c := ctx(t)
	db, err := models.Open(c, proxy.Rewrite(dsn), models.WithAcquireTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	proxy.Cut()
	_, raw := tx.ExecContext(c, "SELECT 1")
	if err := models.Classify(raw); !errors.Is(err, models.ErrUnavailable) {
		t.Errorf("query on a cut connection: Classify(%v) = %v, want ErrUnavailable", raw, err)
	}
	_, raw = db.ExecContext(c, "SELECT 1")
	if err := models.Classify(raw); !errors.Is(err, models.ErrUnavailable) {
		t.Errorf("new connection while cut: Classify(%v) = %v, want ErrUnavailable", raw, err)
	}
	proxy.Restore()
	if _, err := db.ExecContext(c, "SELECT 1"); err != nil {
		t.Errorf("after restore: %v", err)
	}
	if _, err := models.Open(c, "postgres://postgres@127.0.0.1:1/x?sslmode=disable"); !errors.Is(err, models.ErrUnavailable) {
		t.Errorf("Open on a closed port: %v, want ErrUnavailable", err)
	}
}

func hostPort(t *testing.T, dsn string) string {
	rest := dsn[strings.Index(dsn, "@")+1:]
	return rest[:strings.IndexAny(rest, "/?")]
}

// TestClassifySQLiteBusy holds SQLite's write lock in one transaction: a
// write from another connection waits out the busy timeout and is
// ErrUnavailable, and a closed database is ErrUnavailable too.
func TestClassifySQLiteBusy(t *testing.T) {
	dir := t.TempDir()
	c := ctx(t)
	db, err := models.Open(c, "sqlite:"+dir+"/busy.db?_pragma=busy_timeout(50)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dbtest.Must(t, models.CreateTables(c, db, (*Author)(nil)), "create tables")
	tx, err := db.BeginTx(c, nil) // immediate: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	start := time.Now()
	raw := insert(c, db, &Author{Name: "B", Email: "b@example.com"})
	if err := models.Classify(raw); !errors.Is(err, models.ErrUnavailable) {
		t.Errorf("write while locked: Classify(%v) = %v, want ErrUnavailable", raw, err)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("the DSN's busy_timeout(50) was not used: waited %v", waited)
	}
	dbtest.Must(t, tx.Rollback(), "rollback")
	db.Close()
	_, raw = db.ExecContext(c, "SELECT 1")
	if err := models.Classify(raw); !errors.Is(err, models.ErrUnavailable) {
		t.Errorf("closed database: Classify(%v) = %v, want ErrUnavailable", raw, err)
	}
}

// TestClassifyConnectionErrors: the errors a lost or refused connection
// produces, real where they can be provoked here.
func TestClassifyConnectionErrors(t *testing.T) {
	c := ctx(t)
	_, refused := pgconn.Connect(c, "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	_, dialErr := net.DialTimeout("tcp", "127.0.0.1:1", time.Second)
	tests := []struct {
		name string
		err  error
	}{
		{"pgconn.ConnectError", refused},
		{"net.OpError", dialErr},
		{"driver.ErrBadConn", fmt.Errorf("query: %w", driver.ErrBadConn)},
		{"io.EOF", io.EOF},
		{"io.ErrUnexpectedEOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF)},
		{"sql.ErrConnDone", sql.ErrConnDone},
		{"pgconn.ErrConnClosed", pgconn.ErrConnClosed},
		{"conn closed text", errors.New("conn closed")},
		{"already unavailable", fmt.Errorf("acquire: %w", models.ErrUnavailable)},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}},
		{"too many connections", &pgconn.PgError{Code: "53300"}},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Fatalf("%s: could not provoke the error", tt.name)
		}
		got := models.Classify(tt.err)
		if !errors.Is(got, models.ErrUnavailable) || !errors.Is(got, tt.err) {
			t.Errorf("%s: Classify(%v) = %v, want ErrUnavailable wrapping it", tt.name, tt.err, got)
		}
		if !models.IsDriverError(tt.err) {
			t.Errorf("%s: IsDriverError = false", tt.name)
		}
	}
	for _, err := range []error{errors.New("plain"), context.Canceled, &pgconn.PgError{Code: "42601"}} {
		if got := models.Classify(err); errors.Is(got, models.ErrUnavailable) {
			t.Errorf("Classify(%v) = %v, want no ErrUnavailable", err, got)
		}
	}
	if models.IsDriverError(errors.New("plain")) || models.IsDriverError(nil) {
		t.Error("IsDriverError true for a plain error")
	}
}
