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
	input     int  // 1 + the index of a nested or slug input of the same name in planInternal.inputs; 0 none
}

// plan internals hung off Plan.
type planInternal struct {
	codecs    []codec
	byName    map[string]int // JSON name -> index in codecs
	out       []int          // codecs written on output, in order
	validator Validator      // the Serializer's; nil when none
	verbose   string         // the model's verbose name, e.g. "author"
	// Nested and slug fields on input (related.go): inputs, and how many
	// of them have no model field of their name (their seen values come
	// after the codecs').
	inputs     []input
	extraSlots int
	// pends: some input is handed to a Write hook or a Slug's lookup
	// (DecodeFields cannot decode it from the body alone).
	pends bool
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
	related                                         bool // Methods, Nested or Slugs: a plan of its own
}

func (c config) empty() bool {
	return len(c.fields) == 0 && len(c.exclude) == 0 && len(c.readOnly) == 0 &&
		len(c.writeOnly) == 0 && len(c.represent) == 0 && c.validator == nil && !c.related
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	dateType      = reflect.TypeFor[models.Date]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	unmarshalType = reflect.TypeFor[json.Unmarshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshal = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func panicf(format string, args ...any) {
	panic(fmt.Sprintf("cosworth/serializers: "+format, args...))
}

// buildPlan builds a serializer's plan from the model plan of t
// (models.MetaFor) and the serializer's configuration.
func buildPlan(t reflect.Type, cfg config) *Plan {
	if t.Kind() != reflect.Struct {
		panicf("%v is not a struct; serializers work on struct models", t)
	}
	meta, err := models.MetaFor(t)
	if err != nil {
		panicf("%v", err)
	}
	check := func(list []string, what string) {
		for _, n := range list {
			if meta.Field(n) == nil {
				panicf("%s lists %q, which is not a JSON field of %v (fields: %s)", what, n, t, strings.Join(meta.Names(false), ", "))
			}
		}
	}
	check(cfg.fields, "Fields")
	check(cfg.exclude, "Exclude")
	check(cfg.readOnly, "ReadOnly")
	check(cfg.writeOnly, "WriteOnly")
	check(cfg.represent, "Represent")

	// Select and order: Fields gives the order when set (as DRF's Meta.fields).
	selected := meta.Fields
	if len(cfg.fields) > 0 {
		selected = make([]Field, 0, len(cfg.fields))
		for _, n := range cfg.fields {
			selected = append(selected, *meta.Field(n))
		}
	}
	if len(cfg.exclude) > 0 {
		selected = slices.DeleteFunc(slices.Clone(selected), func(f Field) bool { return slices.Contains(cfg.exclude, f.Name) })
	}
	for _, n := range cfg.represent {
		if !slices.ContainsFunc(selected, func(f Field) bool { return f.Name == n }) {
			panicf("Represent names %q, which Fields or Exclude leave out of %v", n, t)
		}
	}

	v := cfg.validator
	p := &Plan{Type: t, Meta: meta, Fields: make([]Field, 0, len(selected))}
	in := &planInternal{byName: make(map[string]int, len(selected)), validator: v, verbose: meta.VerboseName}
	for _, f := range selected {
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
		c := compileField(t, &f, v)
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

// compileField builds the codec of one field of the model plan.
func compileField(t reflect.Type, f *Field, v Validator) codec {
	c := codec{
		offset:   f.Offset,
		typ:      f.Type,
		trim:     !f.NoTrim,
		nullable: f.Nullable,
		uniqMsg:  f.UniqueMessage,
		fk:       f.ForeignKey,
	}
	c.key = appendKey(nil, f.Name)
	ft := f.Type
	if ft.Kind() == reflect.Pointer {
		c.ptr = true
		ft = ft.Elem()
	}
	c.kind, c.bits = kindOf(ft)
	where := fmt.Sprintf("%v.%s", t, f.GoName)
	compileRules(where, f, &c, v)
	c.blankOK = !f.Required
	if f.HasDefault {
		c.setDef = compileDefault(where, f.Default, &c)
	}
	return c
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
