package serializers

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/models"
)

// kind is how a field is encoded and decoded.
type kind uint8

const (
	kindOther  kind = iota // encoding/json for this field
	kindString             // string
	kindBool               // bool
	kindInt                // int, int8 ... int64
	kindUint               // uint, uint8 ... uint64, uintptr
	kindFloat              // float32, float64
	kindTime               // time.Time
	kindDate               // models.Date
)

// codec is the compiled, per-field half of a plan: where the field lives
// in T and how to read, check and write it.
type codec struct {
	idx       int     // index in Plan.Fields
	offset    uintptr // byte offset of the field in T
	kind      kind
	ptr       bool // *kind: nullable, nil is null
	bits      int  // size of ints, uints and floats
	typ       reflect.Type
	key       []byte // `"name":`
	rules     []rule
	varTag    string // rules left to the Serializer's Validator
	extra     Check  // their compiled check; nil when none
	blankOK   bool   // a string field that may be "" (not required)
	trim      bool   // strip surrounding whitespace from strings (DRF's default)
	nullable  bool
	setDef    func(p unsafe.Pointer)
	uniqMsg   string
	fk        bool // the field is a foreign-key column
	omitEmpty bool // validate:"omitempty": no rules for the zero value
}

// plan internals hung off Plan.
type planInternal struct {
	codecs    []codec
	byName    map[string]int // JSON name -> index in codecs
	out       []int          // codecs written on output, in order
	validator Validator      // the Serializer's; nil when none
	verbose   string         // the model's verbose name, e.g. "author"
}

var planCache sync.Map // reflect.Type -> *Plan

// PlanFor returns the plan of the default serializer of T (every field,
// as tagged). It is built once per type and cached; it panics, with a
// message prefixed "cosworth/serializers:", when T's tags are invalid.
func PlanFor[T any]() *Plan {
	t := reflect.TypeFor[T]()
	if p, ok := planCache.Load(t); ok {
		return p.(*Plan)
	}
	p := buildPlan(t, config{})
	actual, _ := planCache.LoadOrStore(t, p)
	return actual.(*Plan)
}

// config is the part of a Serializer that shapes its plan.
type config struct {
	fields, exclude, readOnly, writeOnly, represent []string
	validator                                       Validator
}

func (c config) empty() bool {
	return len(c.fields) == 0 && len(c.exclude) == 0 && len(c.readOnly) == 0 &&
		len(c.writeOnly) == 0 && len(c.represent) == 0 && c.validator == nil
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	dateType      = reflect.TypeFor[models.Date]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	unmarshalType = reflect.TypeFor[json.Unmarshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshal = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// rawField is a struct field found while walking T.
type rawField struct {
	sf     reflect.StructField
	name   string
	index  []int
	offset uintptr
	depth  int
}

func panicf(format string, args ...any) {
	panic(fmt.Sprintf("cosworth/serializers: "+format, args...))
}

func buildPlan(t reflect.Type, cfg config) *Plan {
	if t.Kind() != reflect.Struct {
		panicf("%v is not a struct; serializers work on struct models", t)
	}
	var raw []rawField
	walk(t, nil, 0, 0, &raw)
	raw = resolveConflicts(t, raw)

	byName := make(map[string]int, len(raw))
	for i, f := range raw {
		byName[f.name] = i
	}
	check := func(list []string, what string) {
		for _, n := range list {
			if _, ok := byName[n]; !ok {
				panicf("%s lists %q, which is not a JSON field of %v (fields: %s)", what, n, t, names(raw))
			}
		}
	}
	check(cfg.fields, "Fields")
	check(cfg.exclude, "Exclude")
	check(cfg.readOnly, "ReadOnly")
	check(cfg.writeOnly, "WriteOnly")
	check(cfg.represent, "Represent")

	// Select and order: Fields gives the order when set (as DRF's Meta.fields).
	selected := raw
	if len(cfg.fields) > 0 {
		selected = selected[:0:0]
		for _, n := range cfg.fields {
			selected = append(selected, raw[byName[n]])
		}
	}
	if len(cfg.exclude) > 0 {
		selected = slices.DeleteFunc(slices.Clone(selected), func(f rawField) bool { return slices.Contains(cfg.exclude, f.name) })
	}
	for _, n := range cfg.represent {
		if !slices.ContainsFunc(selected, func(f rawField) bool { return f.name == n }) {
			panicf("Represent names %q, which Fields or Exclude leave out of %v", n, t)
		}
	}

	v := cfg.validator
	fks := foreignKeyColumns(t)
	p := &Plan{Type: t, Fields: make([]Field, 0, len(selected))}
	in := &planInternal{byName: make(map[string]int, len(selected)), validator: v, verbose: verboseName(t.Name())}
	for _, rf := range selected {
		f, c := compileField(t, rf, v)
		if slices.Contains(cfg.readOnly, f.Name) {
			f.ReadOnly = true
		}
		if slices.Contains(cfg.writeOnly, f.Name) {
			f.WriteOnly = true
		}
		if f.ReadOnly && f.WriteOnly {
			panicf("%v.%s is both read-only and write-only; drop one", t, f.GoName)
		}
		if f.ReadOnly {
			f.Required = false
		}
		c.fk = f.Column != "" && slices.Contains(fks, f.Column)
		c.idx = len(p.Fields)
		p.Fields = append(p.Fields, f)
		in.byName[f.Name] = len(in.codecs)
		in.codecs = append(in.codecs, c)
		if !f.WriteOnly {
			in.out = append(in.out, c.idx)
		}
	}
	p.in = in
	return p
}

func names(raw []rawField) string {
	var b strings.Builder
	for i, f := range raw {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.name)
	}
	return b.String()
}

// walk collects the JSON fields of t, flattening embedded structs without a
// JSON name as encoding/json does.
func walk(t reflect.Type, index []int, offset uintptr, depth int, out *[]rawField) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		idx := append(slices.Clone(index), i)
		if sf.Anonymous {
			ft := sf.Type
			if name == "" && ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				panicf("%v embeds *%v; embed %v by value (pointer embedding is not supported)", t, ft.Elem(), ft.Elem())
			}
			if name == "" && ft.Kind() == reflect.Struct && ft != timeType && ft != dateType {
				walk(ft, idx, offset+sf.Offset, depth+1, out)
				continue
			}
			if !sf.IsExported() {
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		*out = append(*out, rawField{sf: sf, name: name, index: idx, offset: offset + sf.Offset, depth: depth})
	}
}

// resolveConflicts keeps, for each JSON name, the shallowest field, as
// encoding/json does; two fields at the same depth are a configuration error.
func resolveConflicts(t reflect.Type, raw []rawField) []rawField {
	out := raw[:0:0]
	for _, f := range raw {
		j := slices.IndexFunc(out, func(g rawField) bool { return g.name == f.name })
		switch {
		case j < 0:
			out = append(out, f)
		case f.depth < out[j].depth:
			out[j] = f
		case f.depth == out[j].depth:
			panicf("%v has two fields named %q in JSON (%s and %s); rename one with a json tag", t, f.name, out[j].sf.Name, f.sf.Name)
		}
	}
	return out
}

// compileField builds the Field and codec of one struct field.
func compileField(t reflect.Type, rf rawField, v Validator) (Field, codec) {
	sf := rf.sf
	f := Field{
		Name:     rf.name,
		GoName:   sf.Name,
		Type:     sf.Type,
		Index:    rf.index,
		Validate: sf.Tag.Get("validate"),
		Column:   bunColumn(sf),
	}
	c := codec{offset: rf.offset, typ: sf.Type, trim: true}
	c.key = appendKey(nil, f.Name)
	ft := sf.Type
	if ft.Kind() == reflect.Pointer {
		c.ptr = true
		ft = ft.Elem()
	}
	c.kind, c.bits = kindOf(ft)
	switch sf.Type.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		f.Nullable = true
	}
	c.nullable = f.Nullable
	where := fmt.Sprintf("%v.%s", t, sf.Name)
	parseCosworthTag(where, sf.Tag.Get("cosworth"), &f, &c)
	parseValidateTag(where, f.Validate, &f, &c, v)
	c.blankOK = !f.Required
	if f.HasDefault {
		c.setDef = compileDefault(where, f.Default, &c)
	}
	return f, c
}

func kindOf(t reflect.Type) (kind, int) {
	switch t {
	case timeType:
		return kindTime, 0
	case dateType:
		return kindDate, 0
	}
	if pt := reflect.PointerTo(t); pt.Implements(marshalerType) || pt.Implements(unmarshalType) ||
		pt.Implements(textMarshaler) || pt.Implements(textUnmarshal) {
		return kindOther, 0
	}
	switch t.Kind() {
	case reflect.String:
		return kindString, 0
	case reflect.Bool:
		return kindBool, 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindInt, t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return kindUint, t.Bits()
	case reflect.Float32, reflect.Float64:
		return kindFloat, t.Bits()
	}
	return kindOther, 0
}

// appendKey appends `"name":`.
func appendKey(dst []byte, name string) []byte {
	dst = jsonbody.AppendString(dst, name)
	return append(dst, ':')
}

// bunColumn is the column name bun gives the field ("" when it is not a
// column: bun:"-" or a relation).
func bunColumn(sf reflect.StructField) string {
	tag, ok := sf.Tag.Lookup("bun")
	if tag == "-" {
		return ""
	}
	name, opts, _ := strings.Cut(tag, ",")
	if strings.HasPrefix(name, "rel:") || strings.HasPrefix(name, "m2m:") || strings.Contains(opts, "rel:") || strings.Contains(opts, "m2m:") {
		return ""
	}
	if strings.HasPrefix(name, "table:") || strings.Contains(name, ":") {
		name = ""
	}
	if name == "" || !ok {
		return underscore(sf.Name)
	}
	return strings.Trim(name, `"`)
}

// underscore is bun's default column name for a Go field name.
func underscore(s string) string {
	r := make([]byte, 0, len(s)+5)
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	isLower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUpper(c) {
			if i > 0 && i+1 < len(s) && (isLower(s[i-1]) || isLower(s[i+1])) {
				r = append(r, '_', c+32)
			} else {
				r = append(r, c+32)
			}
		} else {
			r = append(r, c)
		}
	}
	return string(r)
}

// foreignKeyColumns lists the columns of t that reference other tables:
// bun belongs-to joins and the columns of models.Referencer.
func foreignKeyColumns(t reflect.Type) []string {
	var cols []string
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for i := range t.NumField() {
			sf := t.Field(i)
			if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
				visit(sf.Type)
				continue
			}
			tag := sf.Tag.Get("bun")
			if !strings.Contains(tag, "rel:belongs-to") {
				continue
			}
			for opt := range strings.SplitSeq(tag, ",") {
				if j, ok := strings.CutPrefix(opt, "join:"); ok {
					for pair := range strings.SplitSeq(j, ",") {
						base, _, _ := strings.Cut(pair, "=")
						cols = append(cols, base)
					}
				}
			}
		}
	}
	visit(t)
	if r, ok := reflect.New(t).Interface().(models.Referencer); ok {
		for _, ref := range r.References() {
			cols = append(cols, ref.Column)
		}
	}
	return cols
}

// verboseName is Django's default verbose name of a model class: its
// CamelCase words, lower-cased and separated by spaces.
func verboseName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			prevLower := i > 0 && name[i-1] >= 'a' && name[i-1] <= 'z'
			nextLower := i+1 < len(name) && name[i+1] >= 'a' && name[i+1] <= 'z'
			if i > 0 && (prevLower || nextLower) {
				b.WriteByte(' ')
			}
			b.WriteByte(c + 32)
			continue
		}
		b.WriteByte(c)
	}
	return strings.TrimSpace(b.String())
}

// parseCosworthTag reads `cosworth:"read_only,write_only,default=V,..."`.
// A comma inside a value is written \,.
func parseCosworthTag(where, tag string, f *Field, c *codec) {
	for _, opt := range splitEscaped(tag) {
		key, val, hasVal := strings.Cut(opt, "=")
		switch key {
		case "":
			continue
		case "read_only":
			f.ReadOnly = true
		case "write_only":
			f.WriteOnly = true
		case "no_trim":
			c.trim = false
		case "default":
			f.Default, f.HasDefault = val, true
		case "unique_message":
			if !hasVal || val == "" {
				panicf("%s: unique_message needs a message, e.g. cosworth:\"unique_message=A user with that username already exists.\"", where)
			}
			c.uniqMsg = val
		default:
			panicf("%s: unknown cosworth tag option %q (known: read_only, write_only, default=VALUE, unique_message=TEXT, no_trim)", where, key)
		}
	}
}

func splitEscaped(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	var cur []byte
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == ',':
			cur = append(cur, ',')
			i++
		case s[i] == ',':
			out = append(out, string(cur))
			cur = cur[:0]
		default:
			cur = append(cur, s[i])
		}
	}
	return append(out, string(cur))
}

// compileDefault parses a cosworth:"default=..." value for the field's
// type and returns a function that stores it.
func compileDefault(where, def string, c *codec) func(p unsafe.Pointer) {
	rv := reflect.New(c.typ).Elem()
	target := rv
	if c.ptr {
		target = reflect.New(c.typ.Elem())
		rv.Set(target)
		target = target.Elem()
	}
	var err error
	switch c.kind {
	case kindString:
		target.SetString(def)
	case kindBool:
		var b bool
		b, err = strconv.ParseBool(def)
		target.SetBool(b)
	case kindInt:
		var i int64
		i, err = strconv.ParseInt(def, 10, c.bits)
		target.SetInt(i)
	case kindUint:
		var u uint64
		u, err = strconv.ParseUint(def, 10, c.bits)
		target.SetUint(u)
	case kindFloat:
		var f float64
		f, err = strconv.ParseFloat(def, c.bits)
		target.SetFloat(f)
	case kindDate:
		var d models.Date
		d, err = models.ParseDate(def)
		target.Set(reflect.ValueOf(d))
	case kindTime:
		t, ok := parseDateTime([]byte(def))
		if !ok {
			err = fmt.Errorf("not a datetime")
		}
		target.Set(reflect.ValueOf(t))
	default:
		err = json.Unmarshal([]byte(def), rv.Addr().Interface())
	}
	if err != nil {
		panicf("%s: default=%s is not a valid %v (%v)", where, def, c.typ, err)
	}
	if !c.ptr {
		// Typed stores for the native kinds: no reflection per request.
		switch c.kind {
		case kindString:
			v := target.String()
			return func(p unsafe.Pointer) { *(*string)(p) = v }
		case kindBool:
			v := target.Bool()
			return func(p unsafe.Pointer) { *(*bool)(p) = v }
		case kindInt:
			v := target.Int()
			switch c.bits {
			case 8:
				return func(p unsafe.Pointer) { *(*int8)(p) = int8(v) }
			case 16:
				return func(p unsafe.Pointer) { *(*int16)(p) = int16(v) }
			case 32:
				return func(p unsafe.Pointer) { *(*int32)(p) = int32(v) }
			}
			return func(p unsafe.Pointer) { *(*int64)(p) = v }
		case kindUint:
			v := target.Uint()
			switch c.bits {
			case 8:
				return func(p unsafe.Pointer) { *(*uint8)(p) = uint8(v) }
			case 16:
				return func(p unsafe.Pointer) { *(*uint16)(p) = uint16(v) }
			case 32:
				return func(p unsafe.Pointer) { *(*uint32)(p) = uint32(v) }
			}
			return func(p unsafe.Pointer) { *(*uint64)(p) = v }
		case kindFloat:
			v := target.Float()
			if c.bits == 32 {
				return func(p unsafe.Pointer) { *(*float32)(p) = float32(v) }
			}
			return func(p unsafe.Pointer) { *(*float64)(p) = v }
		case kindDate:
			v := target.Interface().(models.Date)
			return func(p unsafe.Pointer) { *(*models.Date)(p) = v }
		case kindTime:
			v := target.Interface().(time.Time)
			return func(p unsafe.Pointer) { *(*time.Time)(p) = v }
		}
	}
	typ := c.typ
	if c.kind == kindOther {
		// Slices, maps and pointers inside must not be shared between
		// objects: decode the text afresh each time.
		text := []byte(def)
		return func(p unsafe.Pointer) {
			v := reflect.NewAt(typ, p)
			v.Elem().SetZero()
			_ = json.Unmarshal(text, v.Interface())
		}
	}
	if c.ptr {
		elem := target
		return func(p unsafe.Pointer) {
			fresh := reflect.New(typ.Elem())
			fresh.Elem().Set(elem)
			reflect.NewAt(typ, p).Elem().Set(fresh)
		}
	}
	return func(p unsafe.Pointer) {
		reflect.NewAt(typ, p).Elem().Set(rv)
	}
}
