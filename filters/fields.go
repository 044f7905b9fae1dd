package filters

import (
	"encoding"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/querystring"
	"github.com/cosworth/cosworth/models"
)

// Messages of Fields, in django-filter's (Django forms') wording.
const (
	// MsgEnterNumber answers a value that is not a number (NumberFilter).
	MsgEnterNumber = "Enter a number."
	// MsgInvalidChoice answers a foreign key that is not the key of an
	// existing row (ModelChoiceFilter).
	MsgInvalidChoice = "Select a valid choice. That choice is not one of the available choices."
	// MsgNullChars answers a string value with a NUL character.
	MsgNullChars = drfmsg.NullChars
	// MsgDateTime answers a value that is not an ISO 8601 date/time.
	MsgDateTime = "Enter a valid date/time."
	// MsgDate answers a value that is not a date (models.Date).
	MsgDate = "Enter a valid date."
	// MsgInvalid answers a value another encoding.TextUnmarshaler refused.
	MsgInvalid = "Enter a valid value."
)

// Fields is django-filter's filterset_fields: ?author=3 keeps the rows
// whose field equals the value, for each listed field (their JSON names
// are the parameter names). The value is parsed by the Go type of the
// field:
//
//   - integers and floats: a number (Django's DecimalField: surrounding
//     space, a sign, a fraction or exponent allowed; an integer field
//     compares with the value truncated toward zero, as Django does; a
//     value outside the field's range matches nothing); otherwise
//     "Enter a number."
//   - a belongs-to foreign key (the field a bun rel:belongs-to relation
//     joins on): the value must be the primary key of an existing row of
//     the related table, checked with one query; otherwise "Select a valid
//     choice. That choice is not one of the available choices."
//     (ModelChoiceFilter).
//   - bool: "true"/"1" or "false"/"0", any case; any other value is no
//     filter (django-filter's BooleanWidget).
//   - string: exact, case-sensitive; NUL characters are refused with "Null
//     characters are not allowed." and invalid UTF-8 becomes U+FFFD.
//   - time.Time: ISO 8601 / RFC 3339 (a date alone is midnight UTC);
//     otherwise "Enter a valid date/time.". It is compared in UTC.
//   - a type implementing encoding.TextUnmarshaler (models.Date): its
//     UnmarshalText; otherwise "Enter a valid date." for a type named Date,
//     "Enter a valid value." for others.
//   - pointers: as their element type.
//
// An empty value is no filter, and a repeated parameter uses its last
// value (both as django-filter). When several parameters are bad, the
// error lists them all, in the order of the fields given to NewFields, as
// django-filter does.
type Fields struct {
	fields []exactField
}

type exactField struct {
	name  string
	ident any                                       // bun.Ident, boxed once
	parse func(string) (v any, msg string, ok bool) // ok false: no filter
	// fk, when set, checks that the value is the key of a related row.
	fkTable any // pointer to a zero struct of the related model
	fkIdent any
}

const whereEq = "?TableAlias.? = ?"

// NewFields returns the exact filters on fields (JSON names of table's
// fields). It returns an error naming the model and its fields when a name
// is not a field, and one naming the type when a field's type cannot be
// parsed from a query string.
func NewFields(table *schema.Table, fields []string) (*Fields, error) {
	fs := &Fields{}
	for _, name := range fields {
		f, err := lookupField(table, "filter", name)
		if err != nil {
			return nil, err
		}
		parse, err := parserFor(f.StructField.Type)
		if err != nil {
			return nil, errorf("filter field %q of %s: %v", name, table.Type.Name(), err)
		}
		ef := exactField{name: name, ident: bun.Ident(f.Name), parse: parse}
		for _, rel := range table.Relations {
			if rel.Type == schema.BelongsToRelation && len(rel.BasePKs) == 1 && rel.BasePKs[0].Name == f.Name && len(rel.JoinPKs) == 1 {
				ef.fkTable = rel.JoinTable.ZeroIface
				ef.fkIdent = bun.Ident(rel.JoinPKs[0].Name)
				kt := rel.JoinPKs[0].StructField.Type
				parse, err := parserFor(kt)
				if err != nil {
					return nil, errorf("filter field %q of %s: related key: %v", name, table.Type.Name(), err)
				}
				k := kt.Kind()
				ef.parse = choiceParser(parse, k >= reflect.Int && k <= reflect.Uint64)
				break
			}
		}
		fs.fields = append(fs.fields, ef)
	}
	return fs, nil
}

// Fields returns the JSON names filtered on.
func (fs *Fields) Fields() []string {
	names := make([]string, len(fs.fields))
	for i, f := range fs.fields {
		names[i] = f.name
	}
	return names
}

// Apply narrows q to the rows equal to r's values for the fields. It
// returns a *models.ValidationError listing every value that does not fit its field,
// and the database's error when a foreign key check fails to run.
func (fs *Fields) Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, error) {
	var fe *models.ValidationError
	bad := func(field, msg string) {
		if fe == nil {
			fe = &models.ValidationError{}
		}
		fe.Add(field, msg)
	}
	for i := range fs.fields {
		f := &fs.fields[i]
		raw, ok := querystring.Get(r.URL.RawQuery, f.name)
		if !ok || raw == "" {
			continue
		}
		v, msg, ok := f.parse(raw)
		if msg != "" {
			bad(f.name, msg)
			continue
		}
		if !ok {
			continue
		}
		if v == nil { // a valid number outside the field's range
			q = q.Where("1 = 0")
			continue
		}
		if f.fkTable != nil {
			exists, err := q.DB().NewSelect().Model(f.fkTable).Where(whereEq, f.fkIdent, v).Exists(r.Context())
			if err != nil {
				return q, err
			}
			if !exists {
				bad(f.name, MsgInvalidChoice)
				continue
			}
		}
		q = q.Where(whereEq, f.ident, models.Param(v))
	}
	if fe != nil {
		return q, fe
	}
	return q, nil
}

var (
	timeType            = reflect.TypeFor[time.Time]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// parserFor returns the value parser for a field of Go type t.
func parserFor(t reflect.Type) (func(string) (any, string, bool), error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return parseTime, nil
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		msg := MsgInvalid
		if t.Name() == "Date" {
			msg = MsgDate
		}
		return func(s string) (any, string, bool) {
			v := reflect.New(t)
			if err := v.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
				return nil, msg, false
			}
			return v.Elem().Interface(), "", true
		}, nil
	}
	switch k := t.Kind(); k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		lo, hi := int64(math.MinInt64)>>(64-bits), int64(math.MaxInt64)>>(64-bits)
		return func(s string) (any, string, bool) {
			n, ok, inRange := parseInteger(s, lo, hi)
			if !ok {
				return nil, MsgEnterNumber, false
			}
			if !inRange {
				return nil, "", true
			}
			return n, "", true
		}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// bun stores uint64 in a signed BIGINT; bound by int64 too.
		hi := int64(math.MaxInt64)
		if t.Bits() < 64 {
			hi = int64(1)<<t.Bits() - 1
		}
		return func(s string) (any, string, bool) {
			n, ok, inRange := parseInteger(s, 0, hi)
			if !ok {
				return nil, MsgEnterNumber, false
			}
			if !inRange {
				return nil, "", true
			}
			return n, "", true
		}, nil
	case reflect.Float32, reflect.Float64:
		return func(s string) (any, string, bool) {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), t.Bits())
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || !isDecimal(strings.TrimSpace(s)) {
				return nil, MsgEnterNumber, false
			}
			return f, "", true
		}, nil
	case reflect.Bool:
		return parseBool, nil
	case reflect.String:
		return parseString, nil
	}
	return nil, fmt.Errorf("type %s cannot be filtered on; exact filters support integers, floats, bools, strings, time.Time and encoding.TextUnmarshaler types", t)
}

// parseInteger parses a decimal number the way Django's DecimalField does
// and truncates it toward zero, as an integer field's lookup does. ok is
// false for a value that is not a number; inRange is false for a number
// outside [lo, hi].
func parseInteger(s string, lo, hi int64) (n int64, ok, inRange bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true, lo <= n && n <= hi
	}
	if !isDecimal(s) || len(s) > 100 {
		return 0, false, false
	}
	r, okr := new(big.Rat).SetString(s)
	if !okr {
		return 0, false, false
	}
	i := new(big.Int).Quo(r.Num(), r.Denom()) // truncates toward zero
	if !i.IsInt64() {
		return 0, true, false
	}
	n = i.Int64()
	return n, true, lo <= n && n <= hi
}

// isDecimal reports whether s is a finite decimal literal as Python's
// Decimal accepts it: sign, digits with an optional point, optional
// exponent (no "inf", "nan", hex or underscores).
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 || exp > 4 {
			return false
		}
	}
	return i == len(s)
}

// parseBool is django-filter's BooleanWidget: true/1, false/0, anything
// else is no filter.
func parseBool(s string) (any, string, bool) {
	switch strings.ToLower(s) {
	case "true", "1":
		return true, "", true
	case "false", "0":
		return false, "", true
	}
	return nil, "", false
}

func parseString(s string) (any, string, bool) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, MsgNullChars, false
	}
	return s, "", true
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

func parseTime(s string) (any, string, bool) {
	s = strings.TrimSpace(s)
	if len(s) <= 40 {
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), "", true
			}
		}
	}
	return nil, MsgDateTime, false
}

// choiceParser wraps the parser of a related key as a ModelChoiceField:
// every parse failure is "Select a valid choice...". An integer key must
// be an integer literal (Python's int()), not a decimal.
func choiceParser(parse func(string) (any, string, bool), intKey bool) func(string) (any, string, bool) {
	return func(s string) (any, string, bool) {
		if intKey {
			if _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil {
				return nil, MsgInvalidChoice, false
			}
		}
		v, msg, ok := parse(s)
		if msg != "" || !ok || v == nil { // v nil: out of the key's range, no such row
			return nil, MsgInvalidChoice, false
		}
		return v, "", true
	}
}
