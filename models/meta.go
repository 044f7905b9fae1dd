package models

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// Meta is the model plan of a struct type: its fields as clients see them
// (JSON names, in encoding/json's order, embedded structs such as Base
// flattened) with what the database and the rules say about each. It is
// derived once per type from the struct tags (`json`, `bun`, `validate`,
// `cosworth`) and is the one place Cosworth reads them: serializers,
// filters, paginators, OpenAPI and views all read the Meta instead of the
// tags. A Meta is immutable; MetaFor returns the same one for a type every
// time.
//
// A filter or paginator of your own should name fields by their JSON
// names and turn them into columns through the Meta:
//
//	meta, err := models.MetaFor(table.Type)
//	f := meta.Field("price_cents") // nil when there is no such field
//	col := table.FieldMap[f.Column] // the bun field, for bun.Ident(col.Name)
type Meta struct {
	// Type is the model's struct type.
	Type reflect.Type
	// VerboseName is Django's default verbose name of the model: its
	// CamelCase words lower-cased, "BookReview" -> "book review".
	VerboseName string
	// Fields are the JSON fields of Type, in order.
	Fields []Field

	byName map[string]int
}

// Field is one field of a Meta.
type Field struct {
	Name   string       // JSON name
	Column string       // bun column name; "" when not a column (bun:"-", a relation, Computed)
	GoName string       // Go struct field name
	Type   reflect.Type // Go type of the field
	Index  []int        // struct field index path (through embedded structs)
	Offset uintptr      // byte offset of the field in the model struct

	ReadOnly  bool // cosworth:"read_only": output only
	WriteOnly bool // cosworth:"write_only": input only
	Required  bool // validate:"required": required on create and PUT
	OmitEmpty bool // validate:"omitempty": the zero value skips the rules
	Nullable  bool // accepts JSON null: a pointer, slice, map or interface

	Default    string // cosworth:"default=..." value, "" when none
	HasDefault bool

	// Validate is the raw validate tag; Rules is the same tag parsed, in
	// tag order ("required" and "omitempty" included).
	Validate string
	Rules    []Rule

	NoTrim        bool   // cosworth:"no_trim": keep surrounding whitespace in strings
	UniqueMessage string // cosworth:"unique_message=...": the message of a unique violation
	ForeignKey    bool   // the column references another table (bun belongs-to join, Referencer)

	// AutoNow marks a timestamp the model's BeforeAppendModel hook sets on
	// every update (cosworth:"auto_now", as Base.UpdatedAt): an UPDATE that
	// names its columns names this one too, so the new value is written.
	AutoNow bool
	// Computed marks a field whose value is an SQL expression rather than
	// a column (Column is then ""), declared by the model's Annotations
	// (see Annotator). Code that turns fields into SQL must skip computed
	// fields or use Expr. A computed field is ReadOnly.
	Computed bool
	// Expr is the SQL expression of a computed field (developer's text,
	// which may use ?TableAlias), "" for others.
	Expr string
	// SelectAs is the name a computed field is selected as, "(Expr) AS
	// SelectAs": the name of its bun:",scanonly" field, which bun and the
	// views' PostgreSQL reader scan into it.
	SelectAs string
}

// Rule is one rule of a validate tag (validator/v10's syntax), parsed
// once: "max=10" is {Tag: "max=10", Name: "max", Param: "10"}. A rule with
// alternatives, "alpha|numeric", has them in Any (at least one must pass)
// and no Name. Rules after "dive" or "keys" apply to elements; code that
// checks only the field itself stops at them.
type Rule struct {
	Tag     string   // the rule's text in the tag
	Name    string   // e.g. "max", "email", "required"
	Param   string   // the text after "=", "" when none
	Choices []string // oneof's choices (space-separated, single quotes group words)
	Any     []Rule   // the alternatives of "a|b"
}

var (
	metaMu    sync.RWMutex
	metaCache = map[reflect.Type]metaResult{} // bounded by the program's model types
)

type metaResult struct {
	meta *Meta
	err  error
}

// MetaOf returns the Meta of T; see MetaFor.
func MetaOf[T any]() (*Meta, error) { return MetaFor(reflect.TypeFor[T]()) }

// MetaFor returns the Meta of the struct type t, derived on first use and
// cached (reflection runs once per type). The error, also cached, says
// what is wrong with t's tags and how to fix it, without a package
// prefix: callers add theirs ("cosworth/serializers: ...").
func MetaFor(t reflect.Type) (*Meta, error) {
	metaMu.RLock()
	r, ok := metaCache[t]
	metaMu.RUnlock()
	if ok {
		return r.meta, r.err
	}
	m, err := buildMeta(t)
	metaMu.Lock()
	defer metaMu.Unlock()
	if r, ok := metaCache[t]; ok {
		return r.meta, r.err // built meanwhile by another goroutine: one Meta per type
	}
	metaCache[t] = metaResult{m, err}
	return m, err
}

// Field returns the field whose JSON name is name, nil when none.
func (m *Meta) Field(name string) *Field {
	if i, ok := m.byName[name]; ok {
		return &m.Fields[i]
	}
	return nil
}

// ByColumn returns the field stored in column col, nil when none.
func (m *Meta) ByColumn(col string) *Field {
	for i := range m.Fields {
		if m.Fields[i].Column == col && col != "" {
			return &m.Fields[i]
		}
	}
	return nil
}

// Names returns the JSON names of the fields, in order; with columns
// true, only of those stored in a column or computed (what a filter can
// name).
func (m *Meta) Names(columns bool) []string {
	names := make([]string, 0, len(m.Fields))
	for i := range m.Fields {
		if !columns || m.Fields[i].Column != "" || m.Fields[i].Computed {
			names = append(names, m.Fields[i].Name)
		}
	}
	return names
}

var (
	timeType = reflect.TypeFor[time.Time]()
	dateType = reflect.TypeFor[Date]()
)

func buildMeta(t reflect.Type) (*Meta, error) {
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%v is not a struct", t)
	}
	var raw []rawField
	if err := walk(t, t, nil, 0, 0, &raw); err != nil {
		return nil, err
	}
	raw, err := resolveConflicts(t, raw)
	if err != nil {
		return nil, err
	}
	fks := foreignKeyColumns(t)
	m := &Meta{Type: t, VerboseName: verboseName(t.Name()), Fields: make([]Field, 0, len(raw)), byName: make(map[string]int, len(raw))}
	for _, rf := range raw {
		f, err := newField(t, rf)
		if err != nil {
			return nil, err
		}
		f.ForeignKey = f.Column != "" && slices.Contains(fks, f.Column)
		m.byName[f.Name] = len(m.Fields)
		m.Fields = append(m.Fields, f)
	}
	if err := annotate(t, m); err != nil {
		return nil, err
	}
	return m, nil
}

// verboseName is Django's camel_case_to_spaces: a space before a capital
// that follows a lower-case letter or is followed by anything but a
// capital, then lower case, trimmed.
func verboseName(name string) string {
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isUpper(c) {
			prevLower := i > 0 && name[i-1] >= 'a' && name[i-1] <= 'z'
			if prevLower || i+1 < len(name) && !isUpper(name[i+1]) {
				b.WriteByte(' ')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return strings.TrimSpace(b.String())
}

// rawField is a struct field found while walking the model.
type rawField struct {
	sf     reflect.StructField
	name   string
	index  []int
	offset uintptr
	depth  int
}

// walk collects the JSON fields of t, flattening embedded structs without a
// JSON name as encoding/json does.
func walk(model, t reflect.Type, index []int, offset uintptr, depth int, out *[]rawField) error {
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
				return fmt.Errorf("%v embeds *%v; embed %v by value (pointer embedding is not supported)", model, ft.Elem(), ft.Elem())
			}
			if name == "" && ft.Kind() == reflect.Struct && ft != timeType && ft != dateType {
				if err := walk(model, ft, idx, offset+sf.Offset, depth+1, out); err != nil {
					return err
				}
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
	return nil
}

// resolveConflicts keeps, for each JSON name, the shallowest field, as
// encoding/json does; two fields at the same depth are a configuration error.
func resolveConflicts(t reflect.Type, raw []rawField) ([]rawField, error) {
	out := raw[:0:0]
	for _, f := range raw {
		j := slices.IndexFunc(out, func(g rawField) bool { return g.name == f.name })
		switch {
		case j < 0:
			out = append(out, f)
		case f.depth < out[j].depth:
			out[j] = f
		case f.depth == out[j].depth:
			return nil, fmt.Errorf("%v has two fields named %q in JSON (%s and %s); rename one with a json tag", t, f.name, out[j].sf.Name, f.sf.Name)
		}
	}
	return out, nil
}

// newField reads the tags of one struct field.
func newField(t reflect.Type, rf rawField) (Field, error) {
	sf := rf.sf
	f := Field{
		Name:     rf.name,
		GoName:   sf.Name,
		Type:     sf.Type,
		Index:    rf.index,
		Offset:   rf.offset,
		Column:   bunColumn(sf),
		Validate: sf.Tag.Get("validate"),
	}
	switch sf.Type.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		f.Nullable = true
	}
	if err := parseCosworthTag(sf.Tag.Get("cosworth"), &f); err != nil {
		return f, fmt.Errorf("%v.%s: %w", t, sf.Name, err)
	}
	f.Rules = parseRules(f.Validate)
	for _, r := range f.Rules {
		if r.Name == "dive" || r.Name == "keys" {
			break
		}
		switch r.Name {
		case "required":
			f.Required = true
		case "omitempty":
			f.OmitEmpty = true
		}
	}
	return f, nil
}

// parseCosworthTag reads `cosworth:"read_only,write_only,default=V,..."`.
// A comma inside a value is written \,.
func parseCosworthTag(tag string, f *Field) error {
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
			f.NoTrim = true
		case "auto_now":
			f.AutoNow = true
		case "default":
			f.Default, f.HasDefault = val, true
		case "unique_message":
			if !hasVal || val == "" {
				return fmt.Errorf("unique_message needs a message, e.g. cosworth:\"unique_message=A user with that username already exists.\"")
			}
			f.UniqueMessage = val
		default:
			return fmt.Errorf("unknown cosworth tag option %q (known: read_only, write_only, default=VALUE, unique_message=TEXT, no_trim, auto_now)", key)
		}
	}
	return nil
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

// parseRules splits a validate tag into its rules.
func parseRules(tag string) []Rule {
	if tag == "" || tag == "-" {
		return nil
	}
	var rules []Rule
	for part := range strings.SplitSeq(tag, ",") {
		if strings.Contains(part, "|") {
			r := Rule{Tag: part}
			for alt := range strings.SplitSeq(part, "|") {
				r.Any = append(r.Any, parseRule(alt))
			}
			rules = append(rules, r)
			continue
		}
		rules = append(rules, parseRule(part))
	}
	return rules
}

func parseRule(text string) Rule {
	name, param, _ := strings.Cut(text, "=")
	r := Rule{Tag: text, Name: name, Param: param}
	if name == "oneof" {
		r.Choices = splitOneOf(param)
	}
	return r
}

// splitOneOf splits validator/v10's oneof parameter: space-separated,
// single quotes group words.
func splitOneOf(s string) []string {
	var out []string
	for s != "" {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		if s[0] == '\'' {
			if j := strings.IndexByte(s[1:], '\''); j >= 0 {
				out = append(out, s[1:1+j])
				s = s[2+j:]
				continue
			}
		}
		j := strings.IndexByte(s, ' ')
		if j < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:j])
		s = s[j+1:]
	}
	return out
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
// bun belongs-to joins and the columns of Referencer.
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
	if r, ok := reflect.New(t).Interface().(Referencer); ok {
		for _, ref := range r.References() {
			cols = append(cols, ref.Column)
		}
	}
	return cols
}
