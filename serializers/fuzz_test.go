package serializers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
)

// fuzzItem has a field of every kind the serializer decodes itself, plus
// one it hands to encoding/json, with the rules the bookstore uses.
type fuzzItem struct {
	models.Base
	Title     string            `json:"title" validate:"required,max=20"`
	Email     string            `json:"email" validate:"omitempty,email"`
	ISBN      string            `json:"isbn" validate:"omitempty,len=13,numeric"`
	Count     int64             `json:"count" validate:"gte=0"`
	Small     int8              `json:"small"`
	Unsigned  uint16            `json:"unsigned"`
	Optional  *int32            `json:"optional"`
	Flag      bool              `json:"flag"`
	MaybeFlag *bool             `json:"maybe_flag"`
	Ratio     float64           `json:"ratio"`
	Ratio32   float32           `json:"ratio32"`
	At        time.Time         `json:"at"`
	On        *models.Date      `json:"on"`
	Secret    string            `json:"secret" cosworth:"write_only"`
	Status    string            `json:"status" cosworth:"default=draft" validate:"oneof=draft published"`
	Owner     string            `json:"owner" cosworth:"read_only"`
	Tags      []string          `json:"tags"`
	Extra     map[string]string `json:"extra"`
}

var fuzzSeeds = []string{
	`{"title":"Dune","count":3}`,
	`{"title":"Dune","email":"a@b.co","isbn":"9780441013593","count":0,"small":-128,"unsigned":65535,"optional":null,"flag":true,"maybe_flag":"null","ratio":1e-7,"ratio32":3.4e38,"at":"2024-02-29T23:59:59.999999Z","on":"2024-02-29","secret":"s","status":"published","owner":"x","tags":["a"],"extra":{"k":"v"}}`,
	`{"title":"  padded  ","count":"12","flag":"yes","ratio":"1.5"}`,
	`{"title":"","count":-1,"small":128,"unsigned":-1,"email":"nope","isbn":"12"}`,
	`{"title":"\u00e9\ud83d\ude00","count":1.0,"optional":2147483648}`,
	`{"title":"x","count":9223372036854775808,"ratio":1e400}`,
	`{"title":"x","on":"2023-02-29","at":"yesterday"}`,
	`{"title":"x","title":"y"}`,
	`{"title":"x","count":1}trailing`,
	`[{"title":"x"}]`,
	`"just a string"`,
	`null`,
	``,
	`{`,
	`{"title":"\ud800"}`,
	"\xef\xbb\xbf{}",
	"{\"title\":\"\xff\"}",
	`{"tags":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
	`{"extra":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat("}", 40) + `}`,
	`{"title":"x","count":1e2,"small":"0x10","unsigned":" 7 "}`,
	`{"title":"x","maybe_flag":"","flag":"off","optional":"nan"}`,
	`{"title":"x","ratio":"Infinity","ratio32":"-inf"}`,
	`{"title":"x","status":"archived"}`,
}

// FuzzDecode feeds arbitrary bodies to Decode in every mode. Decode must
// not panic; every error is a *ParseError or a *models.ValidationError whose body
// is valid JSON; whatever decodes encodes to valid JSON without write-only
// fields; and a valid create or update encodes to JSON that decodes (as a
// partial update) to the same representation.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	s := &serializers.Serializer[fuzzItem]{}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, mode := range []serializers.Mode{serializers.Create, serializers.Update, serializers.Partial} {
			var v fuzzItem
			err := s.Decode(ctx, body, &v, mode)
			switch e := err.(type) {
			case nil:
			case *serializers.ParseError:
				if !strings.HasPrefix(e.Error(), "JSON parse error - ") {
					t.Fatalf("mode %d: ParseError text %q", mode, e.Error())
				}
				continue
			case *models.ValidationError:
				if len(e.Fields) == 0 {
					t.Fatalf("mode %d: empty models.ValidationError", mode)
				}
				if b := e.AppendJSON(nil); !json.Valid(b) {
					t.Fatalf("mode %d: models.ValidationError body is not JSON: %s", mode, b)
				}
				continue
			default:
				t.Fatalf("mode %d: error %T %v, want *ParseError or *models.ValidationError", mode, err, err)
			}
			out := s.AppendJSON(nil, &v)
			if !json.Valid(out) {
				t.Fatalf("mode %d: encoding is not JSON: %s", mode, out)
			}
			if bytes.Contains(out, []byte(`"secret"`)) {
				t.Fatalf("mode %d: write-only field in the output: %s", mode, out)
			}
			if mode == serializers.Partial {
				continue // a partial update of a zero item need not be a valid item
			}
			again := v
			if err := s.Decode(ctx, out, &again, serializers.Partial); err != nil {
				t.Fatalf("mode %d: own output %s does not decode: %v", mode, out, err)
			}
			if out2 := s.AppendJSON(nil, &again); !bytes.Equal(out, out2) {
				t.Fatalf("mode %d: round trip changed the representation:\n%s\n%s", mode, out, out2)
			}
		}
	})
}

// FuzzDecodeDepth checks the nesting bound on any shape of nesting: a body
// nested beyond MaxDepth is a *ParseError, never a stack overflow.
func FuzzDecodeDepth(f *testing.F) {
	f.Add(uint16(33), byte('['))
	f.Add(uint16(10000), byte('{'))
	f.Add(uint16(31), byte('['))
	s := &serializers.Serializer[fuzzItem]{}
	f.Fuzz(func(t *testing.T, depth uint16, open byte) {
		var b bytes.Buffer
		b.WriteString(`{"title":"x","extra":`)
		for i := 0; i < int(depth); i++ {
			if open == '{' {
				b.WriteString(`{"k":`)
			} else {
				b.WriteByte('[')
			}
		}
		b.WriteString("1")
		for i := 0; i < int(depth); i++ {
			if open == '{' {
				b.WriteByte('}')
			} else {
				b.WriteByte(']')
			}
		}
		b.WriteByte('}')
		var v fuzzItem
		err := s.Decode(context.Background(), b.Bytes(), &v, serializers.Create)
		if int(depth)+1 > serializers.MaxDepth { // the top-level object is one level
			if _, ok := err.(*serializers.ParseError); !ok {
				t.Fatalf("depth %d: %T %v, want *ParseError", depth, err, err)
			}
			return
		}
		switch err.(type) {
		case nil, *models.ValidationError:
		default:
			t.Fatalf("depth %d: %T %v", depth, err, err)
		}
	})
}
