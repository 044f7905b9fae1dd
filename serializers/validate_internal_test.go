package serializers

import (
	"reflect"
	"testing"

	"github.com/go-playground/validator/v10"

	"github.com/cosworth/cosworth/models"
)

// builtInAccepts compiles tag for a field of type T with no Validator (so
// every rule must be built in) and reports whether in passes its rules.
func builtInAccepts[T string | int64 | uint8](t *testing.T, tag string, in T) bool {
	t.Helper()
	typ := reflect.TypeFor[T]()
	c := &codec{typ: typ}
	c.kind, c.bits = kindOf(typ)
	st := reflect.StructOf([]reflect.StructField{{Name: "X", Type: typ, Tag: reflect.StructTag(`validate:"` + tag + `"`)}})
	meta, err := models.MetaFor(st)
	if err != nil {
		t.Fatal(err)
	}
	compileRules("test", &meta.Fields[0], c, nil)
	failed := false
	add := func(string) { failed = true }
	switch v := any(in).(type) {
	case string:
		for i := range c.rules {
			failed = failed || !c.rules[i].okString(v)
		}
	case int64:
		c.checkInt(v, add)
	case uint8:
		c.checkUint(uint64(v), add)
	}
	return !failed
}

// The built-in rules accept exactly what validator/v10's rules of the same
// name accept (email and url excepted: those follow Django's validators).
func TestBuiltInMatchesValidatorV10(t *testing.T) {
	v := validator.New(validator.WithRequiredStructEnabled())
	strs := []string{
		"", "a", "Z", "abc", "ABCdef", "abc1", "a b", "a-b", "é", "ß", "12", "-12", "+1.5", "1.", ".5", "1e3", "0x", "0x1F", "0XaB",
		"00", "x0", "deadBEEF", "g", "SN1", "SN", "xSN", "box", "boxx", "fff", "a\x00b", "日本語", "abcd", "abcde", "abcdef", "a b c d e f g",
		"123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000", "123e4567e89b12d3a456426614174000",
		"123e4567-e89b-12d3-a456-42661417400", "123e4567-e89b-12d3-a456-4266141740000", "g23e4567-e89b-12d3-a456-426614174000",
		"10.0.0.1", "010.0.0.1", "256.1.1.1", "::1", "::ffff:10.0.0.1", "fe80::1", "fe80::1%eth0", "1::2::3", "2001:db8::", " 10.0.0.1",
	}
	for _, tag := range []string{
		"alpha", "alphanum", "hexadecimal", "uuid", "ip", "ipv4", "ipv6", "numeric", "number",
		"startswith=SN", "endswith=x", "contains=f", "max=5", "min=2", "len=3", "gt=2", "lt=4", "eq=abc", "lte=3", "gte=4",
		"oneof=a b 'a b'", "max=2|len=6", "alpha|number", "lt=0", "gt=0",
	} {
		for _, in := range strs {
			want := v.Var(in, tag) == nil
			if got := builtInAccepts(t, tag, in); got != want {
				t.Errorf("%s on %q: built in says %v, validator/v10 says %v", tag, in, got, want)
			}
		}
	}
	for _, tag := range []string{"min=-3", "max=7", "gt=0", "lt=-1", "eq=5", "len=5", "gte=5", "lte=-2", "oneof=1 5 -3", "gt=3|eq=-3", "numeric"} {
		for _, in := range []int64{-4, -3, -1, 0, 1, 5, 7, 8} {
			want := v.Var(in, tag) == nil
			if got := builtInAccepts(t, tag, in); got != want {
				t.Errorf("%s on int64 %d: built in says %v, validator/v10 says %v", tag, in, got, want)
			}
		}
	}
	// Negative bounds on unsigned fields are left out: validator/v10
	// panics on them, the serializer compares.
	for _, tag := range []string{"min=3", "max=7", "gt=0", "lt=1", "eq=5", "oneof=0 5", "gt=300"} {
		for _, in := range []uint8{0, 1, 5, 7, 255} {
			want := v.Var(in, tag) == nil
			if got := builtInAccepts(t, tag, in); got != want {
				t.Errorf("%s on uint8 %d: built in says %v, validator/v10 says %v", tag, in, got, want)
			}
		}
	}
}
