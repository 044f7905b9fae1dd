package serializers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
)

type Author struct {
	bun.BaseModel `bun:"table:authors"`
	models.Base
	Name  string `bun:"name,notnull" json:"name" validate:"required,max=100"`
	Email string `bun:"email,notnull,unique" json:"email" validate:"required,email"`
}

type BookAuthor struct {
	bun.BaseModel `bun:"table:book_authors"`
	models.Base
	Username string  `bun:"username,notnull,unique" json:"username" cosworth:"unique_message=A user with that username already exists."`
	First    string  `bun:"first,unique:full_name" json:"first_name"`
	Last     string  `bun:"last,unique:full_name" json:"last_name"`
	Nick     *string `bun:"nick,notnull" json:"nick"`
}

type Book struct {
	bun.BaseModel `bun:"table:books"`
	models.Base
	Title    string `bun:"title,notnull" json:"title" validate:"required"`
	ISBN     string `bun:"isbn,notnull,unique" json:"isbn"`
	AuthorID int64  `bun:"author_id,notnull" json:"author"`
}

func (*Book) References() []models.Reference {
	return []models.Reference{{Column: "author_id", Table: "authors", OnDelete: "CASCADE"}}
}

// Review references its book through a bun relation instead.
type Review struct {
	bun.BaseModel `bun:"table:reviews"`
	models.Base
	BookID int64 `bun:"book_id,notnull" json:"book"`
	Book   *Book `bun:"rel:belongs-to,join:book_id=id,on_delete:cascade" json:"-"`
}

// TestConstraintError provokes real violations on PostgreSQL and SQLite
// and checks the 400 bodies DRF would give.
func TestConstraintError(t *testing.T) {
	tables := []any{(*Author)(nil), (*BookAuthor)(nil), (*Book)(nil), (*Review)(nil)}
	for name, open := range dbtest.Dialects(t, tables...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			authors := &serializers.Serializer[Author]{}
			people := &serializers.Serializer[BookAuthor]{}
			books := &serializers.Serializer[Book]{}
			reviews := &serializers.Serializer[Review]{}
			a := &Author{Name: "A", Email: "a@example.com"}
			mustInsert(ctx, t, db, a)
			nick := "n"
			mustInsert(ctx, t, db, &BookAuthor{Username: "ann", First: "Ann", Last: "Lee", Nick: &nick})
			b := &Book{Title: "T", ISBN: "1", AuthorID: a.ID}
			mustInsert(ctx, t, db, b)

			tests := []struct {
				name string
				do   func() error
				want string
			}{
				{"unique", func() error {
					v := &Author{Name: "B", Email: "a@example.com"}
					return authors.ConstraintError(insert(ctx, db, v), v)
				}, `{"email":["author with this email already exists."]}`},
				{"unique, verbose name of two words", func() error {
					v := &BookAuthor{Username: "bob", First: "Ann", Last: "Lee", Nick: &nick}
					return people.ConstraintError(insert(ctx, db, v), v)
				}, `{"non_field_errors":["The fields first_name, last_name must make a unique set."]}`},
				{"unique_message", func() error {
					v := &BookAuthor{Username: "ann", First: "X", Last: "Y", Nick: &nick}
					return people.ConstraintError(insert(ctx, db, v), v)
				}, `{"username":["A user with that username already exists."]}`},
				{"foreign key (column)", func() error {
					v := &Book{Title: "U", ISBN: "2", AuthorID: 999}
					return books.ConstraintError(insert(ctx, db, v), v)
				}, `{"author":["Invalid pk \"999\" - object does not exist."]}`},
				{"foreign key (relation)", func() error {
					v := &Review{BookID: 4242}
					return reviews.ConstraintError(insert(ctx, db, v), v)
				}, `{"book":["Invalid pk \"4242\" - object does not exist."]}`},
				{"foreign key on update", func() error {
					v := *b
					v.AuthorID = 77
					_, err := db.NewUpdate().Model(&v).Column("author_id").WherePK().Exec(ctx)
					return books.ConstraintError(err, &v)
				}, `{"author":["Invalid pk \"77\" - object does not exist."]}`},
				{"not null", func() error {
					v := &BookAuthor{Username: "cy"}
					return people.ConstraintError(insert(ctx, db, v), v)
				}, `{"nick":["This field may not be null."]}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					err := tt.do()
					var ve *models.ValidationError
					if !errors.As(err, &ve) {
						t.Fatalf("got %T %v, want *models.ValidationError", err, err)
					}
					if got := string(ve.AppendJSON(nil)); got != tt.want {
						t.Errorf("got  %s\nwant %s", got, tt.want)
					}
				})
			}

			// Not a constraint error: classified and otherwise unchanged.
			err := authors.ConstraintError(db.NewSelect().Model(&Author{}).Where("id = ?", 999).Scan(ctx), nil)
			if !errors.Is(err, models.ErrNotFound) {
				t.Errorf("no row: %v, want ErrNotFound", err)
			}
			if authors.ConstraintError(nil, nil) != nil {
				t.Error("nil error mapped to an error")
			}
		})
	}
}

func insert(ctx context.Context, db bun.IDB, v any) error {
	_, err := db.NewInsert().Model(v).Exec(ctx)
	return err
}

func mustInsert(ctx context.Context, t *testing.T, db bun.IDB, v any) {
	t.Helper()
	if err := insert(ctx, db, v); err != nil {
		t.Fatalf("insert %T: %v", v, err)
	}
}

// TestForeignKeyInput: a foreign-key field refuses what is not a pk with
// DRF's PrimaryKeyRelatedField messages.
func TestForeignKeyInput(t *testing.T) {
	s := &serializers.Serializer[Book]{}
	tests := []struct{ in, want string }{
		{`"abc"`, `Incorrect type. Expected pk value, received str.`},
		{`true`, `Incorrect type. Expected pk value, received bool.`},
		{`[1]`, `Incorrect type. Expected pk value, received list.`},
		{`{}`, `Incorrect type. Expected pk value, received dict.`},
		{`1.5`, `Incorrect type. Expected pk value, received float.`},
		{`99999999999999999999999`, `Invalid pk "99999999999999999999999" - object does not exist.`},
		{`null`, `This field may not be null.`},
	}
	for _, tt := range tests {
		var b Book
		err := s.Decode(context.Background(), []byte(`{"title":"t","isbn":"1","author":`+tt.in+`}`), &b, serializers.Create)
		var ve *models.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "author" || ve.Fields[0].Messages[0] != tt.want {
			t.Errorf("author %s: %v, want %q", tt.in, err, tt.want)
		}
	}
	var b Book
	if err := s.Decode(context.Background(), []byte(`{"title":"t","isbn":"1","author":"12"}`), &b, serializers.Create); err != nil || b.AuthorID != 12 {
		t.Errorf(`author "12": %v, %d`, err, b.AuthorID)
	}
}

// TestConcurrentUniqueCreates races creates of the same email: the
// database lets exactly one through, and every other one maps to the
// field error, never to an unexpected error.
func TestConcurrentUniqueCreates(t *testing.T) {
	for name, open := range dbtest.Dialects(t, (*Author)(nil)) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s := &serializers.Serializer[Author]{}
			const n = 8
			errs := make(chan error, n)
			for range n {
				go func() {
					var a Author
					if err := s.Decode(ctx, []byte(`{"name":"Ann","email":"race@example.com"}`), &a, serializers.Create); err != nil {
						errs <- err
						return
					}
					errs <- s.ConstraintError(insert(ctx, db, &a), &a)
				}()
			}
			created := 0
			for range n {
				err := <-errs
				var ve *models.ValidationError
				switch {
				case err == nil:
					created++
				case errors.As(err, &ve) && string(ve.AppendJSON(nil)) == `{"email":["author with this email already exists."]}`:
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			if created != 1 {
				t.Errorf("%d creates succeeded, want 1", created)
			}
		})
	}
}
