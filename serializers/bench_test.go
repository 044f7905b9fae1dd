package serializers_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
)

// benchBook is the bookstore's book.
type benchBook struct {
	models.Base
	Title       string       `json:"title" validate:"required,max=200"`
	ISBN        string       `json:"isbn" validate:"required,len=13,number"`
	AuthorID    int64        `json:"author" validate:"required"`
	PriceCents  int64        `json:"price_cents" validate:"gte=0"`
	PublishedOn *models.Date `json:"published_on"`
	Owner       string       `json:"owner" cosworth:"read_only"`
}

var (
	benchBody = []byte(`{"title":"The Go Programming Language","isbn":"9780134190440","author":12,"price_cents":3999,"published_on":"2015-10-26"}`)
	pub       = models.Date{Year: 2015, Month: 10, Day: 26}
	benchObj  = benchBook{
		Base:  models.Base{ID: 42, CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC), UpdatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		Title: "The Go Programming Language", ISBN: "9780134190440", AuthorID: 12, PriceCents: 3999, PublishedOn: &pub, Owner: "alice",
	}
)

// Allocation bounds: measured numbers, asserted so a regression shows.
func TestAllocs(t *testing.T) {
	s := &serializers.Serializer[benchBook]{}
	ctx := context.Background()
	var b benchBook
	if err := s.Decode(ctx, benchBody, &b, serializers.Create); err != nil {
		t.Fatal(err)
	}
	// One for the bytes of all strings (title, isbn), one for the *Date:
	// only the values the model keeps.
	if n := testing.AllocsPerRun(100, func() {
		b = benchBook{}
		_ = s.Decode(ctx, benchBody, &b, serializers.Create)
	}); n > 2 {
		t.Errorf("Decode: %v allocs, want <= 2", n)
	}
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = s.AppendJSON(buf[:0], &benchObj) }); n != 0 {
		t.Errorf("AppendJSON: %v allocs, want 0", n)
	}
	list := []benchBook{benchObj, benchObj, benchObj}
	if n := testing.AllocsPerRun(100, func() { buf = s.AppendList(buf[:0], list) }); n != 0 {
		t.Errorf("AppendList: %v allocs, want 0", n)
	}
	// A method field keeps the encoder allocation-free when its Append is.
	withMethod := &serializers.Serializer[benchBook]{Methods: []serializers.Method[benchBook]{{
		Name: "cheap", Type: reflect.TypeFor[bool](),
		Append: func(_ context.Context, dst []byte, b *benchBook) []byte {
			return strconv.AppendBool(dst, b.PriceCents < 1000)
		},
	}}}
	if n := testing.AllocsPerRun(100, func() { buf = withMethod.AppendListContext(ctx, buf[:0], list) }); n != 0 {
		t.Errorf("AppendListContext with a method field: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		b = benchBook{}
		_ = withMethod.Decode(ctx, benchBody, &b, serializers.Create)
	}); n > 2 {
		t.Errorf("Decode with a method field: %v allocs, want <= 2", n)
	}
	// An invalid body costs the error and its messages, nothing per field.
	bad := []byte(`{"title":"","isbn":"1","author":"x","price_cents":-1}`)
	if n := testing.AllocsPerRun(100, func() { _ = s.Decode(ctx, bad, &b, serializers.Create) }); n > 10 {
		t.Errorf("Decode (invalid): %v allocs, want <= 10", n)
	}
}

func BenchmarkDecode(b *testing.B) {
	s := &serializers.Serializer[benchBook]{}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		var v benchBook
		if err := s.Decode(ctx, benchBody, &v, serializers.Create); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEncodingJSON is the comparison: encoding/json alone, with
// no validation at all.
func BenchmarkDecodeEncodingJSON(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		var v benchBook
		if err := json.Unmarshal(benchBody, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	s := &serializers.Serializer[benchBook]{}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.AppendJSON(buf[:0], &benchObj)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendJSONEncodingJSON(b *testing.B) {
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		var err error
		if out, err = json.Marshal(&benchObj); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(out)))
}
