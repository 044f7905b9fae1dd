package serializers_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
)

// pricedBook has a unique isbn and a foreign-key author between ordinary
// fields, to check where their errors go.
type pricedBook struct {
	Title    string `bun:"title" json:"title" validate:"required"`
	ISBN     string `bun:"isbn,unique" json:"isbn" validate:"required,len=4"`
	AuthorID *int64 `bun:"author_id" json:"author"`
	Price    int64  `bun:"price" json:"price" validate:"min=0"`
}

func (*pricedBook) References() []models.Reference {
	return []models.Reference{{Column: "author_id", Table: "authors"}}
}

// TestDecodeRelated checks DecodeRelated without a database: which
// fields are looked up, when, and where their errors go.
func TestDecodeRelated(t *testing.T) {
	ctx := context.Background()
	var calls [][]int
	taken := func(b *pricedBook) []int { // isbn "dupe" is taken; author 99 does not exist
		var failed []int
		if b.ISBN == "dupe" {
			failed = append(failed, 1)
		}
		if b.AuthorID != nil && *b.AuthorID == 99 {
			failed = append(failed, 2)
		}
		return failed
	}
	check := func(_ context.Context, conn any, b *pricedBook, fields []int, _ serializers.Mode) ([]int, error) {
		if conn != "conn" {
			t.Errorf("conn %v, want the Related's", conn)
		}
		calls = append(calls, slices.Clone(fields))
		var failed []int
		for _, f := range taken(b) {
			if slices.Contains(fields, f) {
				failed = append(failed, f)
			}
		}
		return failed, nil
	}
	s := &serializers.Serializer[pricedBook]{
		Validate: func(_ context.Context, b *pricedBook, _ serializers.Mode) error {
			if b.Title == b.ISBN {
				return errors.New("The title must differ from the ISBN.")
			}
			return nil
		},
	}
	if f := s.Plan().Fields; f[1].Name != "isbn" || f[2].Name != "author" {
		t.Fatalf("plan fields %v", f)
	}
	lazy := &serializers.Related[pricedBook]{Fields: []int{1, 2}, Check: check, Conn: "conn"}
	eager := &serializers.Related[pricedBook]{Fields: []int{1, 2}, Check: check, Conn: "conn", Eager: true}
	for _, tt := range []struct {
		name  string
		rel   *serializers.Related[pricedBook]
		body  string
		want  string // "" for success
		calls [][]int
	}{
		{"all wrong", lazy, `{"isbn":"dupe","author":99,"price":-1}`,
			`{"title":["This field is required."],"isbn":["priced book with this isbn already exists."],"author":["Invalid pk \"99\" - object does not exist."],"price":["Ensure this value is greater than or equal to 0."]}`, [][]int{{1, 2}}},
		{"invalid and null are not looked up", lazy, `{"isbn":"toolong","author":null,"price":-1}`,
			`{"title":["This field is required."],"isbn":["Ensure this field has exactly 4 characters."],"price":["Ensure this value is greater than or equal to 0."]}`, nil},
		{"absent is not looked up", lazy, `{"isbn":"dupe","price":-1}`,
			`{"title":["This field is required."],"isbn":["priced book with this isbn already exists."],"price":["Ensure this value is greater than or equal to 0."]}`, [][]int{{1}}},
		{"valid: lazy looks nothing up", lazy, `{"title":"T","isbn":"dupe","author":99}`, "", nil},
		{"valid: eager looks up", eager, `{"title":"T","isbn":"dupe","author":99}`,
			`{"isbn":["priced book with this isbn already exists."],"author":["Invalid pk \"99\" - object does not exist."]}`, [][]int{{1, 2}}},
		{"valid: eager, nothing taken", eager, `{"title":"T","isbn":"free","author":1}`, "", [][]int{{1, 2}}},
		{"lookups win over Validate", lazy, `{"title":"dupe","isbn":"dupe","author":1}`,
			`{"isbn":["priced book with this isbn already exists."]}`, [][]int{{1, 2}}},
		{"Validate when the lookups pass", lazy, `{"title":"free","isbn":"free","author":1}`,
			`{"non_field_errors":["The title must differ from the ISBN."]}`, [][]int{{1, 2}}},
		{"nil Related is Decode", nil, `{"isbn":"dupe","author":99}`, `{"title":["This field is required."]}`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls = nil
			var b pricedBook
			err := s.DecodeRelated(ctx, []byte(tt.body), &b, serializers.Create, tt.rel)
			got := ""
			var ve *models.ValidationError
			if errors.As(err, &ve) {
				got = string(ve.AppendJSON(nil))
			} else if err != nil {
				t.Fatalf("error %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !slices.EqualFunc(calls, tt.calls, slices.Equal[[]int]) {
				t.Errorf("lookups %v, want %v", calls, tt.calls)
			}
			if err != nil && b != (pricedBook{}) {
				t.Errorf("dst changed on error: %+v", b)
			}
		})
	}
}
