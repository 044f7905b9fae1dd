package filters

import (
	"encoding"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/querystring"
	"github.com/cosworth/cosworth/internal/sqlcount"
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

// Fields is django-filter's FilterSet of filterset_fields: each entry
// names a query parameter, either a field ("author": its exact value) or
// a field and a lookup joined by "__" ("price_cents__gte"), as
// django-filter names the filters of filterset_fields = {"price_cents":
// ["exact", "gte"]}. Fields are JSON names of the model plan (computed
// fields included, see models.Annotator); every value is parsed by the Go
// type of its field and sent as a bound parameter.
//
// Lookups (django-filter's lookup_expr):
//
//	exact       field = value (the parameter is the field's name alone)
//	gt, gte     field > value, field >= value
//	lt, lte     field < value, field <= value
//	in          field IN (a, b, ...): a comma-separated list of at most
//	            MaxInValues values; empty items are ignored
//	range       field BETWEEN a AND b: exactly two comma-separated values
//	isnull      field IS NULL for true/1, IS NOT NULL for false/0 (any
//	            case); any other value is no filter (BooleanWidget)
//	icontains   field contains the text, case-insensitively (ILIKE on
//	            PostgreSQL, LIKE on SQLite, ASCII case only); %, _ and \
//	            match literally
//	istartswith field starts with the text, likewise
//
// Integers, floats, strings, time.Time and encoding.TextUnmarshaler types
// (models.Date) take every lookup but icontains and istartswith, which
// only strings take; booleans take exact and isnull; a belongs-to foreign
// key takes exact, in and isnull.
//
// A value is parsed by the Go type of the field:
//
//   - integers and floats: a number (Django's DecimalField: surrounding
//     space, a sign, a fraction or exponent allowed; an integer field
//     compares with the value truncated toward zero, as Django does; a
//     value outside the field's range compares as the number it is:
//     nothing equals it); otherwise "Enter a number."
//   - a belongs-to foreign key (the field a bun rel:belongs-to relation
//     joins on): each value must be the primary key of an existing row of
//     the related table, checked with one query per parameter; otherwise
//     "Select a valid choice. That choice is not one of the available
//     choices." (ModelChoiceFilter).
//   - bool: "true"/"1" or "false"/"0", any case; any other value is no
//     filter (django-filter's BooleanWidget).
//   - string: surrounding whitespace removed (Django's CharField); NUL
//     characters are refused with "Null characters are not allowed." and
//     invalid UTF-8 becomes U+FFFD. exact is case-sensitive.
//   - time.Time: ISO 8601 / RFC 3339 (a date alone is midnight UTC);
//     otherwise "Enter a valid date/time.". It is compared in UTC.
//   - a type implementing encoding.TextUnmarshaler (models.Date): its
//     UnmarshalText; otherwise "Enter a valid date." for a type named Date,
//     "Enter a valid value." for others.
//   - pointers: as their element type.
//
// In a list (in, range), the first bad value gives the message, as
// django-filter's BaseCSVField; a range of other than two values is
// "Range query expects two values.".
//
// An empty value is no filter, and a repeated parameter uses its last
// value (both as django-filter). All parameters combine with AND. When
// several parameters are bad, the error lists them all, in the order
// given to NewFields, as django-filter does.
type Fields struct {
	fields []lookupFilter
}

// The lookups Fields accepts after "__": every lookup, those of values
// with an order (all but the text ones), of booleans and of foreign keys.
var (
	allLookups     = []string{"exact", "gt", "gte", "lt", "lte", "in", "range", "isnull", "icontains", "istartswith"}
	orderedLookups = allLookups[:8]
	boolLookups    = []string{"exact", "isnull"}
	keyLookups     = []string{"exact", "in", "isnull"}
)

// MaxInValues bounds the comma-separated values of an in lookup; more is
// a 400.
const MaxInValues = 100

// MsgRange answers a range lookup without exactly two values.
const MsgRange = "Range query expects two values."

// lookupFilter is one parameter of Fields.
type lookupFilter struct {
	param  string // the query parameter
	field  string // the JSON name of the field
	lookup string
	typ    reflect.Type                              // the field's Go type
	col    string                                    // the field's SQL: ?TableAlias."col" or (expr)
	conds  conds                                     // its conditions, built once
	parse  func(string) (v any, msg string, ok bool) // ok false: no filter
	// fk, when set, checks that the values are keys of related rows.
	fkTable any // pointer to a zero struct of the related model
	fkIdent any
}

// outOfRange is the value of an integer outside its field's range: -1
// below, +1 above. It compares as the number it stands for.
type outOfRange int

// NewFields returns the filters named by params: JSON names of table's
// fields (exact lookups) or "field__lookup" (see Fields). It returns an
// error naming the model and its fields when a name is not a field, one
// naming the lookups when a lookup is unknown or does not suit the
// field's type, and one naming the type when a field's type cannot be
// parsed from a query string.
func NewFields(table *schema.Table, params []string) (*Fields, error) {
	fs := &Fields{}
	seen := map[string]bool{}
	for _, param := range params {
		if seen[param] {
			return nil, errorf("filter %q is listed twice", param)
		}
		seen[param] = true
		lf, err := newLookupFilter(table, param)
		if err != nil {
			return nil, err
		}
		fs.fields = append(fs.fields, lf)
	}
	return fs, nil
}

// splitLookup splits a filter name into its field and lookup: the field
// alone is exact.
func splitLookup(meta *models.Meta, param string) (field, lookup string) {
	if meta != nil && meta.Field(param) != nil {
		return param, "exact"
	}
	i := strings.LastIndex(param, "__")
	if i <= 0 {
		return param, "exact"
	}
	return param[:i], param[i+2:]
}

func newLookupFilter(table *schema.Table, param string) (lookupFilter, error) {
	var meta *models.Meta
	if table != nil {
		meta, _ = models.MetaFor(table.Type)
	}
	name, lookup := splitLookup(meta, param)
	if !slices.Contains(allLookups, lookup) {
		return lookupFilter{}, errorf("filter %q: unknown lookup %q (lookups: %s)", param, lookup, strings.Join(allLookups, ", "))
	}
	col, err := lookupColumn(table, "filter", name)
	if err != nil {
		return lookupFilter{}, err
	}
	likeCol := col.sql
	if col.field != nil && !isText(col.field) {
		likeCol = "CAST(" + col.sql + " AS TEXT)" // a string in a column of another type (uuid)
	}
	lf := lookupFilter{param: param, field: name, lookup: lookup, typ: col.typ, col: col.sql, conds: newConds(col.sql, likeCol)}
	parse, err := parserFor(col.typ)
	if err != nil {
		return lf, errorf("filter field %q of %s: %v", name, table.Type.Name(), err)
	}
	lf.parse = parse
	t := col.typ
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	allowed := orderedLookups
	switch t.Kind() {
	case reflect.String:
		if !reflect.PointerTo(t).Implements(textUnmarshalerType) && t != timeType {
			allowed = allLookups // text: parsed as a string
		}
	case reflect.Bool:
		allowed = boolLookups
	}
	if col.field != nil {
		for _, rel := range table.Relations {
			if rel.Type == schema.BelongsToRelation && len(rel.BasePKs) == 1 && rel.BasePKs[0].Name == col.field.Name && len(rel.JoinPKs) == 1 {
				allowed = keyLookups
				lf.fkTable = rel.JoinTable.ZeroIface
				lf.fkIdent = bun.Ident(rel.JoinPKs[0].Name)
				kt := rel.JoinPKs[0].StructField.Type
				parse, err := parserFor(kt)
				if err != nil {
					return lf, errorf("filter field %q of %s: related key: %v", name, table.Type.Name(), err)
				}
				k := kt.Kind()
				lf.parse = choiceParser(parse, k >= reflect.Int && k <= reflect.Uint64)
				break
			}
		}
	}
	if !slices.Contains(allowed, lookup) {
		return lf, errorf("filter %q: field %q of %s (%s) takes the lookups %s, not %q", param, name, table.Type.Name(), col.typ, strings.Join(allowed, ", "), lookup)
	}
	if lookup == "isnull" {
		lf.parse = parseBool
		lf.fkTable = nil
	}
	return lf, nil
}

// Fields returns the query parameters filtered on.
func (fs *Fields) Fields() []string {
	names := make([]string, len(fs.fields))
	for i, f := range fs.fields {
		names[i] = f.param
	}
	return names
}

// Parameters describes the query parameters of the filters.
func (fs *Fields) Parameters() []Parameter {
	out := make([]Parameter, len(fs.fields))
	for i, f := range fs.fields {
		out[i] = f.parameter()
	}
	return out
}

// Apply narrows q to the rows matching r's values for the filters. It
// returns a *models.ValidationError listing every value that does not
// fit its field, and the database's error when a foreign key check fails
// to run.
func (fs *Fields) Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, error) {
	return fs.apply(r, q, nil)
}

// ApplyDeferred is Apply for a list view that runs the query itself:
// the check that an exact foreign-key value (?author=3) names a row is
// left in pending, for the view to run with Check only when the list
// comes back empty, since a row whose key is the value proves that the
// related row exists (the foreign key enforces it). A list filtered by
// an existing key thus costs no query more. When another parameter is
// bad, every check runs here, so that the 400 lists every bad parameter
// as Apply's does.
func (fs *Fields) ApplyDeferred(r *http.Request, q *bun.SelectQuery, pending *PendingKeys) (*bun.SelectQuery, error) {
	return fs.apply(r, q, pending)
}

func (fs *Fields) apply(r *http.Request, q *bun.SelectQuery, pending *PendingKeys) (*bun.SelectQuery, error) {
	var fe *models.ValidationError
	deferred := 0 // pending.keys[:deferred]: those of an earlier Fields, then ours
	if pending != nil {
		deferred = pending.n
	}
	for i := range fs.fields {
		f := &fs.fields[i]
		raw, ok := querystring.Get(r.URL.RawQuery, f.param)
		if !ok || raw == "" {
			continue
		}
		var msg string
		var err error
		if pending != nil && f.lookup == "exact" && f.fkTable != nil && deferred < len(pending.keys) {
			var key any
			if q, key, msg = f.applyExactKey(q, raw); key != nil {
				pending.keys[deferred] = pendingKey{f: f, key: key}
				deferred++
			}
		} else {
			q, msg, err = f.apply(r, q, raw)
		}
		if err != nil {
			return q, err
		}
		if msg != "" {
			if fe == nil {
				fe = &models.ValidationError{}
			}
			fe.Add(f.param, msg)
		}
	}
	if fe != nil && pending != nil && deferred > pending.n {
		// Every bad parameter in one 400, in the filters' order: the
		// deferred checks run now, in their places.
		all := &models.ValidationError{}
		for i := range fs.fields {
			f := &fs.fields[i]
			for _, e := range fe.Fields {
				if e.Field == f.param {
					all.Fields = append(all.Fields, e)
				}
			}
			for _, pk := range pending.keys[pending.n:deferred] {
				if pk.f != f {
					continue
				}
				msg, err := f.checkKeys(r, q, []any{pk.key})
				if err != nil {
					return q, err
				}
				if msg != "" {
					all.Add(f.param, msg)
				}
			}
		}
		return q, all
	}
	if fe != nil {
		return q, fe
	}
	if pending != nil {
		pending.n, pending.q = deferred, q
	}
	return q, nil
}

// PendingKeys holds the foreign-key checks ApplyDeferred left to the
// view (at most four; more run at once). Its zero value holds none.
type PendingKeys struct {
	n    int
	keys [4]pendingKey
	q    *bun.SelectQuery
}

type pendingKey struct {
	f   *lookupFilter
	key any
}

// Len returns the number of checks pending.
func (pk *PendingKeys) Len() int { return pk.n }

// Check runs the pending checks, one query each: a
// *models.ValidationError naming every parameter whose value is not the
// key of a related row (django-filter's "Select a valid choice. That
// choice is not one of the available choices."), the database's error
// when a check cannot run, or nil.
func (pk *PendingKeys) Check(r *http.Request) error {
	var fe *models.ValidationError
	for _, k := range pk.keys[:pk.n] {
		msg, err := k.f.checkKeys(r, pk.q, []any{k.key})
		if err != nil {
			return err
		}
		if msg != "" {
			if fe == nil {
				fe = &models.ValidationError{}
			}
			fe.Add(k.f.param, msg)
		}
	}
	if fe != nil {
		return fe
	}
	return nil
}

// matchNone is the condition of a value nothing equals.
const matchNone = "1 = 0"

// apply adds f's condition for the raw value to q, or returns the message
// of a bad value.
func (f *lookupFilter) apply(r *http.Request, q *bun.SelectQuery, raw string) (*bun.SelectQuery, string, error) {
	switch f.lookup {
	case "in", "range":
		return f.applyList(r, q, raw)
	case "isnull":
		v, _, ok := f.parse(raw)
		if !ok {
			return q, "", nil
		}
		if v.(bool) {
			return q.Where(f.conds.isNull), "", nil
		}
		return q.Where(f.conds.notNull), "", nil
	}
	v, msg, ok := f.parse(raw)
	if msg != "" || !ok {
		return q, msg, nil
	}
	switch f.lookup {
	case "icontains", "istartswith":
		s := v.(string)
		if s == "" {
			return q, "", nil
		}
		pat := escapeLike(s) + "%"
		if f.lookup == "icontains" {
			pat = "%" + pat
		}
		cond := f.conds.like
		if q.Dialect().Name() == dialect.PG {
			cond = f.conds.ilike
		}
		return q.Where(cond, models.Param(pat)), "", nil
	case "exact":
		if f.fkTable != nil {
			msg, err := f.checkKeys(r, q, []any{v})
			if msg != "" || err != nil {
				return q, msg, err
			}
		}
	}
	return f.conds.compare(q, f.lookup, v), "", nil
}

// applyExactKey adds the exact condition of a foreign-key filter for the
// raw value to q, without checking that the key names a row: key is the
// value to check (nil when there is no condition, or msg says why the
// value is bad).
func (f *lookupFilter) applyExactKey(q *bun.SelectQuery, raw string) (_ *bun.SelectQuery, key any, msg string) {
	v, msg, ok := f.parse(raw)
	if msg != "" || !ok {
		return q, nil, msg
	}
	return f.conds.compare(q, f.lookup, v), v, ""
}

// conds are the conditions of a column, built once.
type conds struct {
	eq, gt, gte, lt, lte string // col = ?, col > ?, ...
	isNull, notNull      string
	like, ilike          string // col LIKE ? ESCAPE '\', with ILIKE on PostgreSQL
}

func newConds(col, likeCol string) conds {
	return conds{
		eq: col + " = ?", gt: col + " > ?", gte: col + " >= ?", lt: col + " < ?", lte: col + " <= ?",
		isNull: col + " IS NULL", notNull: col + " IS NOT NULL",
		like: likeCol + ` LIKE ? ESCAPE '\'`, ilike: likeCol + ` ILIKE ? ESCAPE '\'`,
	}
}

// compare adds "col op v" to q for a lookup (exact, gt, gte, lt, lte); an
// out-of-range integer compares as the number it stands for.
func (c *conds) compare(q *bun.SelectQuery, lookup string, v any) *bun.SelectQuery {
	if o, ok := v.(outOfRange); ok {
		above := o > 0
		switch {
		case lookup == "exact":
			return q.Where(matchNone)
		case (lookup == "gt" || lookup == "gte") == above:
			return q.Where(matchNone) // above the range: nothing is greater
		default:
			return q.Where(c.notNull) // every value is
		}
	}
	cond := c.eq
	switch lookup {
	case "gt":
		cond = c.gt
	case "gte":
		cond = c.gte
	case "lt":
		cond = c.lt
	case "lte":
		cond = c.lte
	}
	return q.Where(cond, param(v))
}

// param wraps a value as a bound parameter; an integer in one allocation.
func param(v any) any {
	if n, ok := v.(int64); ok {
		return models.IntParam(n)
	}
	return models.Param(v)
}

// applyList adds an in or range condition for the comma-separated raw
// values.
func (f *lookupFilter) applyList(r *http.Request, q *bun.SelectQuery, raw string) (*bun.SelectQuery, string, error) {
	n := strings.Count(raw, ",") + 1
	if n > MaxInValues {
		return q, fmt.Sprintf("List contains %d items, it should contain no more than %d.", n, MaxInValues), nil
	}
	vals := make([]any, 0, n)
	var bounds [2]any
	i := 0
	for item := range strings.SplitSeq(raw, ",") {
		var v any
		if strings.TrimSpace(item) != "" {
			var msg string
			var ok bool
			v, msg, ok = f.parse(item)
			if msg != "" {
				return q, msg, nil
			}
			if !ok {
				v = nil
			}
		}
		if f.lookup == "range" {
			if i < 2 {
				bounds[i] = v
			}
		} else if v != nil {
			if _, out := v.(outOfRange); !out {
				vals = append(vals, v)
			}
		}
		i++
	}
	if f.lookup == "range" {
		if i != 2 {
			return q, MsgRange, nil
		}
		if bounds[0] == nil || bounds[1] == nil {
			return q.Where(matchNone), "", nil // BETWEEN with a NULL bound
		}
		return f.conds.compare(f.conds.compare(q, "gte", bounds[0]), "lte", bounds[1]), "", nil
	}
	if len(vals) == 0 {
		return q.Where(matchNone), "", nil
	}
	if f.fkTable != nil {
		msg, err := f.checkKeys(r, q, vals)
		if msg != "" || err != nil {
			return q, msg, err
		}
	}
	cond, args := inList(f.col, vals)
	return q.Where(cond, args...), "", nil
}

// inList returns the condition "lhs IN (?, ...)" over vals and its
// arguments: lead (what lhs's own placeholders take), then each value as
// a parameter, so that a list has one SQL text per length.
func inList(lhs string, vals []any, lead ...any) (string, []any) {
	var b strings.Builder
	b.Grow(len(lhs) + 6 + 3*len(vals))
	b.WriteString(lhs)
	b.WriteString(" IN (?")
	args := make([]any, len(lead), len(lead)+len(vals))
	copy(args, lead)
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ?")
		}
		args = append(args, param(v))
	}
	b.WriteByte(')')
	return b.String(), args
}

// checkKeys reports MsgInvalidChoice unless every value is the key of a
// related row: one query. (It is the one query a filter runs; django-filter's
// ModelChoiceField runs one per value.)
func (f *lookupFilter) checkKeys(r *http.Request, q *bun.SelectQuery, keys []any) (string, error) {
	distinct := make([]any, 0, len(keys))
	for _, k := range keys {
		if !slices.Contains(distinct, k) {
			distinct = append(distinct, k)
		}
	}
	// The keys are parameters, so a check has one SQL text per number of
	// keys, and it runs as the view's own counts do (internal/sqlcount).
	sel := q.DB().NewSelect().Model(f.fkTable)
	if len(distinct) == 1 {
		sel = sel.Where(whereEq, f.fkIdent, param(distinct[0]))
	} else {
		cond, args := inList("?TableAlias.?", distinct, f.fkIdent)
		sel = sel.Where(cond, args...)
	}
	n, err := sqlcount.Count(r.Context(), sel)
	if err != nil || n == int64(len(distinct)) {
		return "", err
	}
	return MsgInvalidChoice, nil
}

const whereEq = "?TableAlias.? = ?"

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
			n, ok, cmp := parseInteger(s, lo, hi)
			if !ok {
				return nil, MsgEnterNumber, false
			}
			if cmp != 0 {
				return outOfRange(cmp), "", true
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
			n, ok, cmp := parseInteger(s, 0, hi)
			if !ok {
				return nil, MsgEnterNumber, false
			}
			if cmp != 0 {
				return outOfRange(cmp), "", true
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
// false for a value that is not a number; cmp is -1 for a number below lo,
// +1 for one above hi, 0 inside [lo, hi].
func parseInteger(s string, lo, hi int64) (n int64, ok bool, cmp int) {
	s = strings.TrimSpace(s)
	inRange := func(n int64) int {
		switch {
		case n < lo:
			return -1
		case n > hi:
			return 1
		}
		return 0
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true, inRange(n)
	}
	if !isDecimal(s) || len(s) > 100 {
		return 0, false, 0
	}
	r, okr := new(big.Rat).SetString(s)
	if !okr {
		return 0, false, 0
	}
	i := new(big.Int).Quo(r.Num(), r.Denom()) // truncates toward zero
	if !i.IsInt64() {
		return 0, true, i.Sign()
	}
	n = i.Int64()
	return n, true, inRange(n)
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

// parseString is Django's CharField: surrounding whitespace removed, NUL
// refused.
func parseString(s string) (any, string, bool) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, MsgNullChars, false
	}
	return strings.TrimSpace(s), "", true
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
		if _, out := v.(outOfRange); msg != "" || !ok || out { // out of the key's range: no such row
			return nil, MsgInvalidChoice, false
		}
		return v, "", true
	}
}

// parameter describes f's query parameter.
func (f *lookupFilter) parameter() Parameter {
	p := Parameter{Name: f.param, Type: f.typ}
	d := "Only results whose " + f.field
	switch f.lookup {
	case "exact":
		d += " equals this value."
	case "gt":
		d += " is greater than this value."
	case "gte":
		d += " is greater than or equal to this value."
	case "lt":
		d += " is less than this value."
	case "lte":
		d += " is less than or equal to this value."
	case "in":
		d += " is one of these comma-separated values (at most " + strconv.Itoa(MaxInValues) + ")."
		p.List = true
	case "range":
		d += " is between these two comma-separated values, inclusive."
		p.List = true
	case "isnull":
		d = "true: only results whose " + f.field + " is null; false: only those whose " + f.field + " is not."
		p.Type = reflect.TypeFor[bool]()
	case "icontains":
		d += " contains this text, ignoring case."
	case "istartswith":
		d += " starts with this text, ignoring case."
	}
	p.Description = d
	return p
}
