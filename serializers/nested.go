package serializers

import (
	"context"
	"errors"
	"reflect"
	"unsafe"

	"github.com/cosworth/cosworth/models"
)

// Method is a field computed in Go for each object, DRF's
// SerializerMethodField: output only, written after the model's fields in
// the order of Serializer.Methods. Append gets the context of the request
// (authentication.PrincipalFrom(ctx) is the caller) and the object, and
// appends the field's JSON value; AppendString helps with strings. The
// other fields keep the allocation-free encoder; Append allocates only if
// it does.
type Method[T any] struct {
	// Name is the field's JSON name; it must not be a field of the model.
	Name string
	// Type is the Go type of the value Append writes, which OpenAPI
	// describes (reflect.TypeFor[bool]()); nil is described as any value.
	Type reflect.Type
	// Append appends the JSON value of the field for v to dst.
	Append func(ctx context.Context, dst []byte, v *T) []byte
}

// RelatedSerializer is the serializer of a related model in a Nested field: any
// *Serializer[R].
type RelatedSerializer interface {
	// Plan returns the related serializer's plan.
	Plan() *Plan
	appendAt(ctx context.Context, dst []byte, p unsafe.Pointer) []byte
}

func (s *Serializer[T]) appendAt(ctx context.Context, dst []byte, p unsafe.Pointer) []byte {
	return appendObject(ctx, dst, s.compiled(), (*T)(p))
}

// Nested represents a bun relation of T by another serializer, as DRF's
// nested serializers do: a belongs-to or has-one relation as an object
// (null when there is none), a has-many or many-to-many relation as an
// array. The views load the relation with the rows (bun's Relation: a
// join for a to-one relation, one query per page for a to-many one).
//
// Named like a field of the model (a foreign key "author"), it replaces
// that field's output and keeps its input: the primary key. Under a name
// of its own it is an extra output field, after the model's fields. On
// input, a JSON object or array under its name is refused with a 400 on
// the field, unless Write takes it (DRF requires nested writes to be
// explicit) or ReadOnly ignores it.
type Nested[T any] struct {
	// Name is the field's JSON name.
	Name string
	// Relation is the bun relation of T (its Go field name, e.g. "Author"),
	// a field of type R, *R, []R or []*R, R being Serializer's model.
	Relation string
	// Serializer represents the related objects, e.g.
	// &serializers.Serializer[Author]{Fields: []string{"id", "name"}}.
	Serializer RelatedSerializer
	// ReadOnly ignores input under Name (DRF's read_only=True).
	ReadOnly bool
	// Write, when set, takes the nested input (the field's raw JSON) into
	// v, e.g. into the relation's field for a PerformCreate to save. An
	// error it returns is reported as Validate's are.
	Write func(ctx context.Context, v *T, data []byte) error
}

// Slug makes a foreign key of T writable and shown by a unique field of
// the related model, DRF's SlugRelatedField: {"author": "ursula"} sets
// author_id to the id of the author named "ursula", and the output is the
// name. The views load Relation to show it.
type Slug struct {
	// Name is the JSON name of T's foreign-key field (an integer column).
	Name string
	// Relation is the bun belongs-to relation of T the key refers by
	// (its Go field name, e.g. "Author").
	Relation string
	// Field is the JSON name of the related model's unique field ("name").
	Field string
	// Lookup returns the primary key of the related object whose Field is
	// value, models.ErrNotFound when there is none. models.LookupPK builds
	// one that runs a query with value as a bound parameter. A read-only
	// field (DRF's SlugRelatedField(read_only=True), e.g. a book's owner
	// shown by username) takes no input and needs none.
	Lookup func(ctx context.Context, value string) (int64, error)
}

// NestedPlan describes a field represented through a relation: a Nested
// serializer or a Slug.
type NestedPlan struct {
	Name     string // JSON name
	Relation string // the bun relation the views load
	Many     bool   // a to-many relation: a JSON array
	// Plan is the related serializer's plan (for a Slug, the related
	// model's default plan).
	Plan *Plan
	// Slug is, for a Slug, the JSON name of the related field shown; ""
	// for a nested serializer.
	Slug string
	// Field is true when Name is also a field of the model (its input is
	// that field's).
	Field bool
	// Writable is true when nested input is taken by a Write hook.
	Writable bool
}

// Messages of nested and slug input.
const (
	msgNestedPK    = "Nested writes are not supported; send the primary key."
	msgNested      = "Nested writes are not supported."
	msgSlugInvalid = "Invalid value."
)

// input modes: how a nested or slug field's input is handled.
const (
	inReadOnly uint8 = iota // ignored
	inRefuse                // a 400 with msg
	inHook                  // a Write hook takes it
	inSlug                  // looked up by Slug.Lookup
)

// input is a nested or slug field seen on input.
type input struct {
	name  string
	codec int // the model field of the same name, -1 when none
	slot  int // index in the decoder's seen values
	mode  uint8
	msg   string
}

// pending is an input value for a hook or a lookup, once decoding is done.
type pending struct {
	input int
	v     value
}

// relShape is the Go shape of a relation field.
type relShape uint8

const (
	relPtr relShape = iota
	relValue
	relSlice
	relSlicePtr
)

// relField locates a relation field in T.
type relField struct {
	offset   uintptr
	shape    relShape
	elemSize uintptr
}

// sliceHeader is the layout of a slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// append appends the representation of the relation of the object at
// base, each related object written by enc.
func (rf *relField) append(ctx context.Context, dst []byte, base unsafe.Pointer, enc func(context.Context, []byte, unsafe.Pointer) []byte) []byte {
	fp := unsafe.Add(base, rf.offset)
	switch rf.shape {
	case relPtr:
		p := *(*unsafe.Pointer)(fp)
		if p == nil {
			return append(dst, "null"...)
		}
		return enc(ctx, dst, p)
	case relValue:
		return enc(ctx, dst, fp)
	}
	h := (*sliceHeader)(fp)
	dst = append(dst, '[')
	for i := range h.len {
		if i > 0 {
			dst = append(dst, ',')
		}
		ep := unsafe.Add(h.data, uintptr(i)*rf.elemSize)
		if rf.shape == relSlicePtr {
			ep = *(*unsafe.Pointer)(ep)
			if ep == nil {
				dst = append(dst, "null"...)
				continue
			}
		}
		dst = enc(ctx, dst, ep)
	}
	return append(dst, ']')
}

// relationOf finds the relation field name of t and its element type.
func relationOf(t reflect.Type, name string) (relField, reflect.Type) {
	sf, ok := t.FieldByName(name)
	if !ok || name == "" {
		panicf("%v has no field %q for a relation; name the Go field of a bun relation (e.g. \"Author\")", t, name)
	}
	var off uintptr
	cur := t
	for _, i := range sf.Index {
		f := cur.Field(i)
		off += f.Offset
		cur = f.Type
		if cur.Kind() == reflect.Pointer && cur != sf.Type {
			panicf("%v.%s is reached through an embedded pointer; embed by value", t, name)
		}
	}
	rf := relField{offset: off}
	ft := sf.Type
	switch ft.Kind() {
	case reflect.Pointer:
		rf.shape = relPtr
		ft = ft.Elem()
	case reflect.Slice:
		rf.shape = relSlice
		ft = ft.Elem()
		rf.elemSize = ft.Size()
		if ft.Kind() == reflect.Pointer {
			rf.shape = relSlicePtr
			ft = ft.Elem()
		}
	case reflect.Struct:
		rf.shape = relValue
	}
	if ft.Kind() != reflect.Struct {
		panicf("%v.%s has type %v; a relation is a struct, a pointer to one or a slice of them", t, name, sf.Type)
	}
	return rf, ft
}

// extraOut is an output field written after the model's.
type extraOut[T any] struct {
	key []byte
	fn  func(ctx context.Context, dst []byte, v *T) []byte
}

// related is the part of a compiled serializer that nested, slug and
// method fields add.
type related[T any] struct {
	extra  []extraOut[T]
	hooks  []func(ctx context.Context, v *T, data []byte) error // by input; nil when none
	lookup []func(ctx context.Context, value string) (int64, error)
	slugOf []string // by input: the related field's name, for messages
}

// addRelated compiles the Methods, Nested and Slugs of s into st, whose
// plan is its own (not the shared default plan).
func (s *Serializer[T]) addRelated(st *compiled[T]) {
	p := st.plan
	in := p.in
	t := p.Type
	names := map[string]bool{}
	claim := func(name, what string) {
		if name == "" {
			panicf("%s of %v has no Name", what, t)
		}
		if names[name] {
			panicf("%v has two method, nested or slug fields named %q", t, name)
		}
		names[name] = true
	}
	ensureRepresent := func() {
		if st.represent == nil {
			st.represent = make([]func(context.Context, []byte, *T) []byte, len(p.Fields))
		}
	}
	addInput := func(ip input, hook func(context.Context, *T, []byte) error, lookup func(context.Context, string) (int64, error), slug string) {
		if ip.codec >= 0 {
			ip.slot = ip.codec
			if in.codecs[ip.codec].input != 0 {
				panicf("%v.%s has two relation declarations", t, ip.name)
			}
			in.codecs[ip.codec].input = len(in.inputs) + 1
		} else {
			ip.slot = len(in.codecs) + in.extraSlots
			in.extraSlots++
			in.byName[ip.name] = ip.slot
		}
		in.inputs = append(in.inputs, ip)
		in.pends = in.pends || ip.mode == inHook || ip.mode == inSlug
		st.rel.hooks = append(st.rel.hooks, hook)
		st.rel.lookup = append(st.rel.lookup, lookup)
		st.rel.slugOf = append(st.rel.slugOf, slug)
	}
	for _, n := range s.Nested {
		claim(n.Name, "Nested")
		if n.Serializer == nil {
			panicf("Nested %q of %v has no Serializer", n.Name, t)
		}
		rf, elem := relationOf(t, n.Relation)
		rp := n.Serializer.Plan()
		if rp.Type != elem {
			panicf("Nested %q: relation %v.%s holds %v, but its Serializer is for %v", n.Name, t, n.Relation, elem, rp.Type)
		}
		np := NestedPlan{Name: n.Name, Relation: n.Relation, Many: rf.shape >= relSlice, Plan: rp, Writable: n.Write != nil}
		ser := n.Serializer
		fn := func(ctx context.Context, dst []byte, v *T) []byte {
			return rf.append(ctx, dst, unsafe.Pointer(v), ser.appendAt)
		}
		ip := input{name: n.Name, codec: -1, mode: inRefuse, msg: msgNested}
		if i, ok := in.byName[n.Name]; ok {
			np.Field = true
			ensureRepresent()
			if st.represent[i] != nil {
				panicf("%v.%s has both a Represent function and a Nested serializer; keep one", t, n.Name)
			}
			st.represent[i] = fn
			ip.codec = i
			if in.codecs[i].fk {
				ip.msg = msgNestedPK
			}
			if p.Fields[i].ReadOnly {
				ip.mode = inReadOnly
			}
		} else {
			st.rel.extra = append(st.rel.extra, extraOut[T]{key: appendKey(nil, n.Name), fn: fn})
			p.Extra = append(p.Extra, Field{Name: n.Name, GoName: n.Relation, Type: relationType(t, n.Relation), ReadOnly: n.Write == nil, Nullable: rf.shape == relPtr})
		}
		if n.ReadOnly {
			ip.mode = inReadOnly
		} else if n.Write != nil {
			ip.mode = inHook
		}
		addInput(ip, n.Write, nil, "")
		p.Nested = append(p.Nested, np)
	}
	for _, sl := range s.Slugs {
		claim(sl.Name, "Slugs")
		i, ok := in.byName[sl.Name]
		if !ok || !in.codecs[i].fk || in.codecs[i].kind != kindInt {
			panicf("Slug %q is not an integer foreign-key field of %v", sl.Name, t)
		}
		if sl.Lookup == nil && !p.Fields[i].ReadOnly {
			panicf("Slug %q of %v has no Lookup; use models.LookupPK, or make the field read-only", sl.Name, t)
		}
		rf, elem := relationOf(t, sl.Relation)
		if rf.shape >= relSlice {
			panicf("Slug %q: relation %v.%s is to-many; a slug names one object", sl.Name, t, sl.Relation)
		}
		rp := buildPlan(elem, config{})
		j, ok := rp.in.byName[sl.Field]
		if !ok {
			panicf("Slug %q: %q is not a field of %v", sl.Name, sl.Field, elem)
		}
		c := rp.in.codecs[j]
		ensureRepresent()
		if st.represent[i] != nil {
			panicf("%v.%s has both a Represent function and a Slug; keep one", t, sl.Name)
		}
		st.represent[i] = func(ctx context.Context, dst []byte, v *T) []byte {
			return rf.append(ctx, dst, unsafe.Pointer(v), func(_ context.Context, dst []byte, p unsafe.Pointer) []byte {
				return c.encode(dst, unsafe.Add(p, c.offset))
			})
		}
		mode := inSlug
		if p.Fields[i].ReadOnly {
			mode = inReadOnly
		}
		addInput(input{name: sl.Name, codec: i, mode: mode}, nil, sl.Lookup, sl.Field)
		p.Nested = append(p.Nested, NestedPlan{Name: sl.Name, Relation: sl.Relation, Plan: rp, Slug: sl.Field, Field: true})
	}
	for _, m := range s.Methods {
		claim(m.Name, "Methods")
		if _, ok := in.byName[m.Name]; ok {
			panicf("Method %q is a field of %v; a method field needs a name of its own", m.Name, t)
		}
		if m.Append == nil {
			panicf("Method %q of %v has no Append", m.Name, t)
		}
		st.rel.extra = append(st.rel.extra, extraOut[T]{key: appendKey(nil, m.Name), fn: m.Append})
		p.Extra = append(p.Extra, Field{Name: m.Name, GoName: m.Name, Type: m.Type, ReadOnly: true})
	}
}

// relationType is the Go type of the relation field name of t.
func relationType(t reflect.Type, name string) reflect.Type {
	sf, _ := t.FieldByName(name)
	return sf.Type
}

// resolve hands the pending nested and slug inputs of a decode to their
// Write hooks and lookups, adding their problems to ve.
func (st *compiled[T]) resolve(ctx context.Context, dst *T, pend []pending, ve *models.ValidationError) (*models.ValidationError, error) {
	in := st.plan.in
	add := func(field, msg string) {
		if ve == nil {
			ve = &models.ValidationError{}
		}
		ve.Add(field, msg)
	}
	for _, pd := range pend {
		ip := &in.inputs[pd.input]
		switch ip.mode {
		case inSlug:
			var scratch []byte
			s := string(stringContent(&pd.v, &scratch))
			if pd.v.kind == 'n' {
				s = string(pd.v.raw)
			}
			pk, err := st.rel.lookup[pd.input](ctx, s)
			if errors.Is(err, models.ErrNotFound) {
				add(ip.name, "Object with "+st.rel.slugOf[pd.input]+"="+s+" does not exist.") // DRF's does_not_exist
				continue
			}
			if err != nil {
				return nil, runValidate(err)
			}
			c := &in.codecs[ip.codec]
			fp := unsafe.Add(unsafe.Pointer(dst), c.offset)
			if c.ptr {
				fp = c.alloc(fp)
			}
			switch c.bits {
			case 8:
				*(*int8)(fp) = int8(pk)
			case 16:
				*(*int16)(fp) = int16(pk)
			case 32:
				*(*int32)(fp) = int32(pk)
			default:
				*(*int64)(fp) = pk
			}
		case inHook:
			if err := runValidate(st.rel.hooks[pd.input](ctx, dst, pd.v.raw)); err != nil {
				var hv *models.ValidationError
				if !errors.As(err, &hv) {
					return nil, err
				}
				for _, f := range hv.Fields {
					for _, m := range f.Messages {
						add(f.Field, m)
					}
				}
			}
		}
	}
	return ve, nil
}

// takeInputs collects, after the model's fields are decoded, the values
// of nested and slug fields: refused ones are reported through add,
// others are appended to pend for resolve.
func takeInputs(in *planInternal, seen []value, add func(field, msg string), pend *[]pending) {
	for j := range in.inputs {
		ip := &in.inputs[j]
		v := seen[ip.slot]
		if v.kind == 0 || v.kind == '0' || ip.mode == inReadOnly {
			continue // absent, null (the field's own input) or ignored
		}
		if ip.mode == inSlug {
			if v.kind != 's' && v.kind != 'n' {
				add(ip.name, msgSlugInvalid)
				continue
			}
			*pend = append(*pend, pending{input: j, v: v})
			continue
		}
		if ip.codec >= 0 && v.kind != '{' && v.kind != '[' {
			continue // a primary key: the field's own input
		}
		if ip.mode == inRefuse {
			add(ip.name, ip.msg)
			continue
		}
		*pend = append(*pend, pending{input: j, v: v})
	}
}

// skipCodec reports whether the model field c leaves its value v to a
// nested or slug input.
func (in *planInternal) skipCodec(c *codec, v *value) bool {
	if c.input == 0 {
		return false
	}
	ip := &in.inputs[c.input-1]
	switch ip.mode {
	case inReadOnly:
		return false
	case inSlug:
		return v.kind != 0 && v.kind != '0'
	}
	return v.kind == '{' || v.kind == '['
}
