package serializers_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
)

// Item has a field of every kind the serializer compiles natively.
type Item struct {
	models.Base
	Name     string      `json:"name" validate:"required,max=10"`
	Code     string      `json:"code" validate:"omitempty,len=3,number"`
	Email    string      `json:"email" validate:"omitempty,email"`
	Site     string      `json:"site" validate:"omitempty,url"`
	Kind     string      `json:"kind" validate:"omitempty,oneof=a b 'c d'"`
	Count    int64       `json:"count" validate:"gte=0,lte=100"`
	Small    int8        `json:"small"`
	U        uint16      `json:"u"`
	Ratio    float64     `json:"ratio"`
	Active   bool        `json:"active"`
	MaybeOn  *bool       `json:"maybe_on"`
	Born     models.Date `json:"born"`
	When     time.Time   `json:"when"`
	Note     *string     `json:"note"`
	Tags     []string    `json:"tags"`
	Password string      `json:"password" cosworth:"write_only"`
	Status   string      `json:"status" cosworth:"default=draft"`
	Hex      string      `json:"hex" validate:"omitempty,hexadecimal"`
	Level    int32       `json:"level" validate:"omitempty,oneof=1 2 3"`
	Raw      string      `json:"raw" cosworth:"no_trim"`
}

func decodeErr(t *testing.T, s *serializers.Serializer[Item], body string, mode serializers.Mode) (Item, string) {
	t.Helper()
	var it Item
	err := s.Decode(context.Background(), []byte(body), &it, mode)
	var ve *models.ValidationError
	var pe *serializers.ParseError
	switch {
	case err == nil:
		return it, ""
	case errors.As(err, &ve):
		return it, string(ve.AppendJSON(nil))
	case errors.As(err, &pe):
		return it, "parse: " + pe.Reason
	}
	t.Fatalf("unexpected error type %T: %v", err, err)
	return it, ""
}

// TestDecodeMessages checks every field message against DRF's wording.
func TestDecodeMessages(t *testing.T) {
	s := &serializers.Serializer[Item]{}
	tests := []struct {
		name, body, want string
	}{
		{"required", `{}`, `{"name":["This field is required."]}`},
		{"blank", `{"name":""}`, `{"name":["This field may not be blank."]}`},
		{"blank after trim", `{"name":"  \t "}`, `{"name":["This field may not be blank."]}`},
		{"null", `{"name":null}`, `{"name":["This field may not be null."]}`},
		{"string from bool", `{"name":true}`, `{"name":["Not a valid string."]}`},
		{"string from list", `{"name":["a"]}`, `{"name":["Not a valid string."]}`},
		{"string from dict", `{"name":{}}`, `{"name":["Not a valid string."]}`},
		{"max length", `{"name":"abcdefghijk"}`, `{"name":["Ensure this field has no more than 10 characters."]}`},
		{"max length counts characters", `{"name":"ééééééééééé"}`, `{"name":["Ensure this field has no more than 10 characters."]}`},
		{"null character", `{"name":"a\u0000b"}`, `{"name":["Null characters are not allowed."]}`},
		{"surrogate", `{"name":"a\ud800b"}`, `{"name":["Surrogate characters are not allowed: U+D800."]}`},
		{"all rules reported", `{"name":"x","code":"12a4"}`, `{"code":["Ensure this field has exactly 3 characters.","Enter a number."]}`},
		{"email", `{"name":"x","email":"nope@"}`, `{"email":["Enter a valid email address."]}`},
		{"url", `{"name":"x","site":"ftp//x"}`, `{"site":["Enter a valid URL."]}`},
		{"oneof", `{"name":"x","kind":"e"}`, `{"kind":["\"e\" is not a valid choice."]}`},
		{"oneof int", `{"name":"x","level":4}`, `{"level":["\"4\" is not a valid choice."]}`},
		{"int from bool", `{"name":"x","count":true}`, `{"count":["A valid integer is required."]}`},
		{"int from fraction", `{"name":"x","count":1.5}`, `{"count":["A valid integer is required."]}`},
		{"int from text", `{"name":"x","count":"ten"}`, `{"count":["A valid integer is required."]}`},
		{"int from list", `{"name":"x","count":[1]}`, `{"count":["A valid integer is required."]}`},
		{"int overflow", `{"name":"x","count":9223372036854775808}`, `{"count":["A valid integer is required."]}`},
		{"int huge", `{"name":"x","count":123456789012345678901234567890}`, `{"count":["A valid integer is required."]}`},
		{"int huge float", `{"name":"x","count":1e16}`, `{"count":["A valid integer is required."]}`},
		{"int string too long", `{"name":"x","count":"` + strings.Repeat("1", 1001) + `"}`, `{"count":["String value too large."]}`},
		{"int min", `{"name":"x","count":-1}`, `{"count":["Ensure this value is greater than or equal to 0."]}`},
		{"int max", `{"name":"x","count":101}`, `{"count":["Ensure this value is less than or equal to 100."]}`},
		{"int8 range", `{"name":"x","small":128}`, `{"small":["Ensure this value is less than or equal to 127."]}`},
		{"int8 range low", `{"name":"x","small":-129}`, `{"small":["Ensure this value is greater than or equal to -128."]}`},
		{"uint negative", `{"name":"x","u":-1}`, `{"u":["Ensure this value is greater than or equal to 0."]}`},
		{"uint16 range", `{"name":"x","u":65536}`, `{"u":["Ensure this value is less than or equal to 65535."]}`},
		{"float from text", `{"name":"x","ratio":"1.5x"}`, `{"ratio":["A valid number is required."]}`},
		{"float nan text", `{"name":"x","ratio":"nan"}`, `{"ratio":["A valid number is required."]}`},
		{"float overflow", `{"name":"x","ratio":1e400}`, `{"ratio":["A valid number is required."]}`},
		{"float from list", `{"name":"x","ratio":[]}`, `{"ratio":["A valid number is required."]}`},
		{"bool", `{"name":"x","active":"maybe"}`, `{"active":["Must be a valid boolean."]}`},
		{"bool from 2", `{"name":"x","active":2}`, `{"active":["Must be a valid boolean."]}`},
		{"bool null string", `{"name":"x","active":"null"}`, `{"active":["Must be a valid boolean."]}`},
		{"bool null", `{"name":"x","active":null}`, `{"active":["This field may not be null."]}`},
		{"date", `{"name":"x","born":"2024-02-30"}`, `{"born":["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}`},
		{"date from number", `{"name":"x","born":20240101}`, `{"born":["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}`},
		{"date with time", `{"name":"x","born":"2024-01-02T00:00"}`, `{"born":["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}`},
		{"datetime", `{"name":"x","when":"yesterday"}`, `{"when":["Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]}`},
		{"datetime bad zone", `{"name":"x","when":"2024-01-02T03:04:05+5"}`, `{"when":["Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]}`},
		{"other", `{"name":"x","tags":"a"}`, `{"tags":["Invalid value."]}`},
		{"validator/v10 rule", `{"name":"x","hex":"xyz"}`, `{"hex":["Invalid value."]}`},
		{"validator/v10 rule not run after a type error", `{"name":"x","hex":[]}`, `{"hex":["Not a valid string."]}`},
		{"order is the plan's", `{"count":-1,"name":"","u":-1}`, `{"name":["This field may not be blank."],"count":["Ensure this value is greater than or equal to 0."],"u":["Ensure this value is greater than or equal to 0."]}`},
		{"not a dict: list", `[]`, `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
		{"not a dict: str", `"a"`, `{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}`},
		{"not a dict: int", ` 12 `, `{"non_field_errors":["Invalid data. Expected a dictionary, but got int."]}`},
		{"not a dict: float", `1.0`, `{"non_field_errors":["Invalid data. Expected a dictionary, but got float."]}`},
		{"not a dict: bool", `false`, `{"non_field_errors":["Invalid data. Expected a dictionary, but got bool."]}`},
		{"not a dict: null", `null`, `{"non_field_errors":["No data provided"]}`},
		{"duplicate keys: last wins", `{"name":"","name":"ok"}`, ``},
		{"duplicate keys: last wins (error)", `{"name":"ok","name":""}`, `{"name":["This field may not be blank."]}`},
		{"escaped key", `{"n\u0061me":"ok"}`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := decodeErr(t, s, tt.body, serializers.Create)
			if got != tt.want {
				t.Errorf("Decode(%s)\n got %s\nwant %s", tt.body, got, tt.want)
			}
		})
	}
}

// TestDecodeValues checks the values DRF accepts and what they become.
func TestDecodeValues(t *testing.T) {
	s := &serializers.Serializer[Item]{}
	tests := []struct {
		name, body string
		check      func(it Item) bool
	}{
		{"trimmed", `{"name":"  ab  "}`, func(it Item) bool { return it.Name == "ab" }},
		{"python whitespace trimmed", `{"name":"\u001fab\u00a0"}`, func(it Item) bool { return it.Name == "ab" }},
		{"no_trim", `{"name":"a","raw":"  x "}`, func(it Item) bool { return it.Raw == "  x " }},
		{"escapes", `{"name":"a\"\\\/\n\u00e9\ud83d\ude00"}`, func(it Item) bool { return it.Name == "a\"\\/\né😀" }},
		{"string from int", `{"name":12}`, func(it Item) bool { return it.Name == "12" }},
		{"string from -0", `{"name":-0}`, func(it Item) bool { return it.Name == "0" }},
		{"string from float", `{"name":1.50}`, func(it Item) bool { return it.Name == "1.5" }},
		{"string from float exp", `{"name":1e20}`, func(it Item) bool { return it.Name == "1e+20" }},
		{"string from whole float", `{"name":2.0}`, func(it Item) bool { return it.Name == "2.0" }},
		{"string from huge float", `{"name":-1e400}`, func(it Item) bool { return it.Name == "-inf" }},
		{"int", `{"name":"a","count":42}`, func(it Item) bool { return it.Count == 42 }},
		{"int from string", `{"name":"a","count":"42"}`, func(it Item) bool { return it.Count == 42 }},
		{"int from padded string", `{"name":"a","count":" 42 "}`, func(it Item) bool { return it.Count == 42 }},
		{"int from 12.0", `{"name":"a","count":12.0}`, func(it Item) bool { return it.Count == 12 }},
		{"int from 1e1", `{"name":"a","count":1e1}`, func(it Item) bool { return it.Count == 10 }},
		{"int from \"12.00\"", `{"name":"a","count":"12.00"}`, func(it Item) bool { return it.Count == 12 }},
		{"int from \"+1_0\"", `{"name":"a","count":"+1_0"}`, func(it Item) bool { return it.Count == 10 }},
		{"int8 min", `{"name":"a","small":-128}`, func(it Item) bool { return it.Small == -128 }},
		{"uint16 max", `{"name":"a","u":65535}`, func(it Item) bool { return it.U == 65535 }},
		{"float", `{"name":"a","ratio":-2.5e-3}`, func(it Item) bool { return it.Ratio == -2.5e-3 }},
		{"float from string", `{"name":"a","ratio":" 1_0.5 "}`, func(it Item) bool { return it.Ratio == 10.5 }},
		{"float from true", `{"name":"a","ratio":true}`, func(it Item) bool { return it.Ratio == 1 }},
		{"bool strings", `{"name":"a","active":"yes"}`, func(it Item) bool { return it.Active }},
		{"bool 1", `{"name":"a","active":1}`, func(it Item) bool { return it.Active }},
		{"bool 1.0", `{"name":"a","active":1.0}`, func(it Item) bool { return it.Active }},
		{"bool off", `{"name":"a","active":"off"}`, func(it Item) bool { return !it.Active }},
		{"nullable bool null", `{"name":"a","maybe_on":null}`, func(it Item) bool { return it.MaybeOn == nil }},
		{"nullable bool \"\"", `{"name":"a","maybe_on":""}`, func(it Item) bool { return it.MaybeOn == nil }},
		{"nullable bool", `{"name":"a","maybe_on":"F"}`, func(it Item) bool { return it.MaybeOn != nil && !*it.MaybeOn }},
		{"date", `{"name":"a","born":"2024-2-3"}`, func(it Item) bool { return it.Born == models.Date{Year: 2024, Month: 2, Day: 3} }},
		{"datetime Z", `{"name":"a","when":"2024-01-02T03:04:05.1234567Z"}`, func(it Item) bool {
			return it.When.Equal(time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)) && it.When.Location() == time.UTC
		}},
		{"datetime offset", `{"name":"a","when":"2024-01-02 03:04+01:30"}`, func(it Item) bool {
			return it.When.Equal(time.Date(2024, 1, 2, 1, 34, 0, 0, time.UTC))
		}},
		{"datetime naive is UTC", `{"name":"a","when":"2024-01-02T03:04:05"}`, func(it Item) bool {
			return it.When.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
		}},
		{"datetime date only", `{"name":"a","when":"2024-01-02"}`, func(it Item) bool {
			return it.When.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
		}},
		{"pointer string", `{"name":"a","note":"n"}`, func(it Item) bool { return it.Note != nil && *it.Note == "n" }},
		{"pointer null", `{"name":"a","note":null}`, func(it Item) bool { return it.Note == nil }},
		{"slice", `{"name":"a","tags":["x","y"]}`, func(it Item) bool { return len(it.Tags) == 2 && it.Tags[1] == "y" }},
		{"slice null", `{"name":"a","tags":null}`, func(it Item) bool { return it.Tags == nil }},
		{"read-only ignored", `{"name":"a","id":7,"created_at":"x"}`, func(it Item) bool { return it.ID == 0 && it.CreatedAt.IsZero() }},
		{"unknown ignored", `{"name":"a","nope":{"deep":[1,2,{"x":null}]}}`, func(it Item) bool { return it.Name == "a" }},
		{"write-only accepted", `{"name":"a","password":"pw"}`, func(it Item) bool { return it.Password == "pw" }},
		{"default on create", `{"name":"a"}`, func(it Item) bool { return it.Status == "draft" }},
		{"default not over a value", `{"name":"a","status":"live"}`, func(it Item) bool { return it.Status == "live" }},
		{"omitempty skips rules", `{"name":"a","code":"","kind":""}`, func(it Item) bool { return it.Code == "" }},
		{"email", `{"name":"a","email":"first.last+tag@sub.example.co"}`, func(it Item) bool { return it.Email != "" }},
		{"url", `{"name":"a","site":"https://example.com:8080/a?b#c"}`, func(it Item) bool { return it.Site != "" }},
		{"oneof quoted", `{"name":"a","kind":"c d"}`, func(it Item) bool { return it.Kind == "c d" }},
		{"empty body", `{}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, got := decodeErr(t, s, tt.body, serializers.Create)
			if tt.check == nil {
				if got == "" {
					t.Fatalf("Decode(%s) succeeded", tt.body)
				}
				return
			}
			if got != "" {
				t.Fatalf("Decode(%s): %s", tt.body, got)
			}
			if !tt.check(it) {
				t.Errorf("Decode(%s) gave %+v", tt.body, it)
			}
		})
	}
}

func TestDecodeModes(t *testing.T) {
	s := &serializers.Serializer[Item]{}
	ctx := context.Background()
	cur := Item{Name: "old", Count: 5, Status: "live"}

	// PUT: required fields must be present; absent optional ones keep
	// their values; defaults are for creation only.
	put := cur
	err := s.Decode(ctx, []byte(`{"count":6}`), &put, serializers.Update)
	var ve *models.ValidationError
	if !errors.As(err, &ve) || string(ve.AppendJSON(nil)) != `{"name":["This field is required."]}` {
		t.Fatalf("PUT without name: %v", err)
	}
	put = cur
	if err := s.Decode(ctx, []byte(`{"name":"new"}`), &put, serializers.Update); err != nil {
		t.Fatal(err)
	}
	if put.Name != "new" || put.Count != 5 || put.Status != "live" {
		t.Fatalf("PUT: %+v", put)
	}

	// PATCH requires nothing and changes only what is sent.
	patch := cur
	if err := s.Decode(ctx, []byte(`{"count":7}`), &patch, serializers.Partial); err != nil {
		t.Fatal(err)
	}
	if patch.Name != "old" || patch.Count != 7 || patch.Status != "live" {
		t.Fatalf("PATCH: %+v", patch)
	}
	// On error the object is left as it was, every field of it.
	keep := cur
	err = s.Decode(ctx, []byte(`{"name":"new","count":-1}`), &keep, serializers.Update)
	if err == nil || keep.Name != cur.Name || keep.Count != cur.Count || keep.Status != cur.Status {
		t.Fatalf("failed PUT changed the object: %+v (err %v)", keep, err)
	}

	// PATCH still validates what is sent.
	patch = cur
	err = s.Decode(ctx, []byte(`{"name":""}`), &patch, serializers.Partial)
	if !errors.As(err, &ve) || string(ve.AppendJSON(nil)) != `{"name":["This field may not be blank."]}` {
		t.Fatalf("PATCH blank: %v", err)
	}
}

func TestDecodeParseErrors(t *testing.T) {
	s := &serializers.Serializer[Item]{}
	deep := func(n int) string { return `{"x":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}` }
	tests := []struct{ body, want string }{
		{``, "Expecting value: line 1 column 1 (char 0)"},
		{`   `, "Expecting value: line 1 column 4 (char 3)"},
		{`{`, "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{`{"a"}`, "Expecting ':' delimiter: line 1 column 5 (char 4)"},
		{`{"a":}`, "Expecting value: line 1 column 6 (char 5)"},
		{`{"a":1 "b":2}`, "Expecting ',' delimiter: line 1 column 8 (char 7)"},
		{`{"a":1,}`, "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"},
		{`{'a':1}`, "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{"{\n\"a\":tru}", "Expecting value: line 2 column 5 (char 6)"},
		{`{"a":[1,]}`, "Expecting value: line 1 column 9 (char 8)"},
		{`{"a":01}`, "Expecting ',' delimiter: line 1 column 7 (char 6)"},
		{`{"a":"x}`, "Unterminated string starting at: line 1 column 6 (char 5)"},
		{"{\"a\":\"x\ty\"}", "Invalid control character at: line 1 column 8 (char 7)"},
		{`{"a":"\x"}`, "Invalid \\escape: line 1 column 7 (char 6)"},
		{`{"a":"\u12"}`, "Invalid \\uXXXX escape: line 1 column 8 (char 7)"},
		{`{} {}`, "Extra data: line 1 column 4 (char 3)"},
		{`{}x`, "Extra data: line 1 column 3 (char 2)"},
		{`[] x`, "Extra data: line 1 column 4 (char 3)"},
		{`{"é":1,}`, "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"},
		{`{"a":NaN}`, "Out of range float values are not JSON compliant: 'NaN'"},
		{`{"a":Infinity}`, "Out of range float values are not JSON compliant: 'Infinity'"},
		{`{"a":-Infinity}`, "Out of range float values are not JSON compliant: '-Infinity'"},
		{"{\"a\":\"\xff\"}", "'utf-8' codec can't decode byte 0xff in position 6: invalid start byte"},
		{"{\"a\":\"\xc3(\"}", "'utf-8' codec can't decode byte 0xc3 in position 6: invalid continuation byte"},
		{"{\"a\":\"\xe2\x82", "'utf-8' codec can't decode byte 0xe2 in position 6: unexpected end of data"},
		{"\xef\xbb\xbf{}", "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"},
		{deep(serializers.MaxDepth + 1), "Maximum nesting depth exceeded"},
		{strings.Repeat("[", 100000), "Maximum nesting depth exceeded"},
	}
	for _, tt := range tests {
		_, got := decodeErr(t, s, tt.body, serializers.Create)
		if got != "parse: "+tt.want {
			t.Errorf("Decode(%q)\n got %s\nwant parse: %s", tt.body, got, tt.want)
		}
	}
	// Exactly MaxDepth levels are fine.
	if _, got := decodeErr(t, s, deep(serializers.MaxDepth), serializers.Partial); got != "" {
		t.Errorf("depth %d: %s", serializers.MaxDepth, got)
	}
	// A parse error's text says nothing of the input.
	_, got := decodeErr(t, s, `{"a":"`+strings.Repeat("secret", 1000)+`", x}`, serializers.Create)
	if strings.Contains(got, "secret") || len(got) > 100 {
		t.Errorf("parse error echoes input: %s", got)
	}
	pe := &serializers.ParseError{Reason: "r"}
	if pe.Error() != "JSON parse error - r" || pe.StatusCode() != 400 {
		t.Errorf("ParseError: %q %d", pe.Error(), pe.StatusCode())
	}
}

// FuzzDecodeSyntax: every body encoding/json finds valid
// (within the depth bound, without NaN) parses, and the rest fail with a
// *ParseError.
func FuzzDecodeSyntax(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"a","count":1}`, `[1,2]`, `{"a":[{"b":null}]}`, `{"a":1e5,"b":-0.5}`, `"x"`, `{"a":"\u00e9"}`, `{"a":}`, `{"name":1}`} {
		f.Add([]byte(s))
	}
	s := &serializers.Serializer[Item]{}
	f.Fuzz(func(t *testing.T, body []byte) {
		var it Item
		err := s.Decode(context.Background(), body, &it, serializers.Partial)
		var pe *serializers.ParseError
		parsed := !errors.As(err, &pe)
		if err != nil && parsed {
			var ve *models.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T: %v", err, err)
			}
		}
		if !json.Valid(body) {
			if parsed {
				t.Fatalf("invalid JSON %q accepted", body)
			}
			return
		}
		if !parsed && !strings.Contains(pe.Reason, "depth") && !strings.Contains(pe.Reason, "utf-8") && !strings.Contains(pe.Reason, "BOM") {
			t.Fatalf("valid JSON %q refused: %s", body, pe.Reason)
		}
	})
}
