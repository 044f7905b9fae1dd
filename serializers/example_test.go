package serializers_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
)

// ExampleBook is a bookstore model: the tags say everything the
// serializer needs.
type ExampleBook struct {
	bun.BaseModel `bun:"table:books"`
	models.Base                // id, created_at, updated_at: read-only
	Title         string       `bun:"title,notnull" json:"title" validate:"required,max=200"`
	ISBN          string       `bun:"isbn,notnull,unique" json:"isbn" validate:"required,len=13,number"`
	AuthorID      int64        `bun:"author_id,notnull" json:"author" validate:"required"`
	PriceCents    int64        `bun:"price_cents,notnull" json:"price_cents" validate:"gte=0" cosworth:"default=0"`
	PublishedOn   *models.Date `bun:"published_on,type:date" json:"published_on"`
	OwnerID       int64        `bun:"owner_id,notnull" json:"owner" cosworth:"read_only"`
}

// The zero Serializer works from T's tags alone. Decode validates with
// DRF's messages; AppendJSON writes DRF's representation.
func ExampleSerializer() {
	s := &serializers.Serializer[ExampleBook]{}
	ctx := context.Background()

	var b ExampleBook
	err := s.Decode(ctx, []byte(`{"title":"Dune","isbn":"9780441013593","author":"7","published_on":"1965-08-01","owner":99}`), &b, serializers.Create)
	fmt.Println(err, b.Title, b.AuthorID, b.PriceCents, b.PublishedOn, b.OwnerID)

	err = s.Decode(ctx, []byte(`{"title":"","isbn":"97804","price_cents":-1}`), &b, serializers.Create)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(string(ve.AppendJSON(nil)))
	}

	b.ID = 1
	fmt.Println(string(s.AppendJSON(nil, &b)))
	// Output:
	// <nil> Dune 7 0 1965-08-01 0
	// {"title":["This field may not be blank."],"isbn":["Ensure this field has exactly 13 characters."],"author":["This field is required."],"price_cents":["Ensure this value is greater than or equal to 0."]}
	// {"id":1,"created_at":"0001-01-01T00:00:00Z","updated_at":"0001-01-01T00:00:00Z","title":"Dune","isbn":"9780441013593","author":7,"price_cents":0,"published_on":"1965-08-01","owner":0}
}

// A configured Serializer picks and orders fields (Fields), changes their
// direction (ReadOnly, WriteOnly), rewrites their output (Represent) and
// adds cross-field rules (Validate), which run only once every field is
// valid, as DRF's validate() does.
func ExampleSerializer_configured() {
	usernames := map[int64]string{3: "alice"}
	s := &serializers.Serializer[ExampleBook]{
		Fields: []string{"id", "title", "price_cents", "owner"},
		Represent: map[string]func([]byte, *ExampleBook) []byte{
			"owner": func(dst []byte, b *ExampleBook) []byte { return serializers.AppendString(dst, usernames[b.OwnerID]) },
		},
		Validate: func(ctx context.Context, b *ExampleBook, mode serializers.Mode) error {
			if b.PriceCents > 100000 {
				return errors.New("Books cost less than 1000.00.")
			}
			return nil
		},
	}
	b := ExampleBook{Base: models.Base{ID: 5}, Title: "Emma", PriceCents: 900, OwnerID: 3}
	fmt.Println(string(s.AppendJSON(nil, &b)))

	err := s.Decode(context.Background(), []byte(`{"price_cents":200000}`), &b, serializers.Partial)
	fmt.Println(err)
	// Output:
	// {"id":5,"title":"Emma","price_cents":900,"owner":"alice"}
	// non_field_errors: Books cost less than 1000.00.
}

// Malformed JSON is a *ParseError, answered with DRF's 400
// {"detail": "JSON parse error - ..."}; a body that is JSON but not an
// object is a *models.ValidationError.
func ExampleParseError() {
	s := &serializers.Serializer[ExampleBook]{}
	var b ExampleBook
	fmt.Println(s.Decode(context.Background(), []byte(`{"title": "Dune",}`), &b, serializers.Create))
	fmt.Println(s.Decode(context.Background(), []byte(`["Dune"]`), &b, serializers.Create))
	// Output:
	// JSON parse error - Expecting property name enclosed in double quotes: line 1 column 18 (char 17)
	// non_field_errors: Invalid data. Expected a dictionary, but got list.
}

// PlanFor exposes what the serializer derived from the tags, for views,
// filters and schema generation.
func ExamplePlanFor() {
	for _, f := range serializers.PlanFor[ExampleBook]().Fields {
		fmt.Println(f.Name, f.Column, f.ReadOnly, f.Required)
	}
	// Output:
	// id id true false
	// created_at created_at true false
	// updated_at updated_at true false
	// title title false true
	// isbn isbn false true
	// author author_id false true
	// price_cents price_cents false false
	// published_on published_on false false
	// owner owner_id true false
}

// ConstraintError turns what the database refused into DRF's 400, so a
// duplicate that slipped past every check still gets a field error.
func ExampleSerializer_ConstraintError() {
	type Member struct {
		bun.BaseModel `bun:"table:members"`
		models.Base
		Username string `bun:"username,notnull,unique" json:"username" validate:"required" cosworth:"unique_message=A user with that username already exists."`
	}
	ctx := context.Background()
	db, err := models.Open(ctx, ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := models.CreateTables(ctx, db, (*Member)(nil)); err != nil {
		panic(err)
	}
	s := &serializers.Serializer[Member]{}
	for range 2 {
		var m Member
		if err := s.Decode(ctx, []byte(`{"username":"ann"}`), &m, serializers.Create); err != nil {
			panic(err)
		}
		_, err := db.NewInsert().Model(&m).Exec(ctx)
		err = s.ConstraintError(err, &m)
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			fmt.Println(string(ve.AppendJSON(nil)))
		} else {
			fmt.Println(err, m.ID)
		}
	}
	// Output:
	// <nil> 1
	// {"username":["A user with that username already exists."]}
}
