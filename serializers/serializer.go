// Package serializers turns request bodies into models and models into
// JSON, the way DRF's ModelSerializer does, from the model plan
// (models.MetaFor: the struct tags `json`, `bun`, `validate` and
// `cosworth`, read once per type) and the Serializer's own selection.
//
// Tags understood on model fields:
//
//	json:"name"                 the field's JSON name ("-" hides it both ways)
//	validate:"required,max=100" rules in validator/v10's syntax, reported with DRF's messages
//	cosworth:"read_only"        ignored on input, present on output
//	cosworth:"write_only"       accepted on input, never on output
//	cosworth:"default=VALUE"    value used on create when the field is absent
//	cosworth:"unique_message=T" message for a unique violation on the field
//	cosworth:"no_trim"          keep surrounding whitespace in strings
//	cosworth:"auto_now"         a timestamp a hook sets on update; views write its column
//
// A field is required on create and PUT when its validate tag has
// "required"; PATCH requires nothing. Fields of embedded structs such as
// models.Base are flattened, as encoding/json does.
//
// Decoding accepts what the matching DRF field accepts (CharField,
// IntegerField, FloatField, BooleanField, DateField, DateTimeField,
// PrimaryKeyRelatedField for foreign keys) and reports DRF's messages. The
// common validator/v10 rules are built in and checked natively with DRF's
// and Django's messages; any other rule needs a [Validator] (package
// serializers/validatorv10 adapts validator/v10), so a service that uses
// only the built-in rules does not link validator/v10. Encoding writes DRF's
// representation. Both are compiled per field when the plan is built, so a
// request costs no reflection for these types. docs/serializers.md has the
// full tables.
//
// Beyond the model's fields, a Serializer can show relations through other
// serializers (Nested; the views load them without a query per row), write
// and show a foreign key by a unique field of the related model (Slugs),
// and add fields computed in Go with the request's context (Methods).
// DecodeList decodes a list body for a bulk create.
package serializers

import (
	"context"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/cosworth/cosworth/models"
)

// Mode says what a decode is for: a create (POST), a full update (PUT) or a
// partial update (PATCH).
type Mode uint8

// The decode modes.
const (
	Create Mode = iota
	Update
	Partial
)

// Serializer decodes request bodies into *T and encodes *T as JSON. The zero
// value serializes every exported field of T according to its tags; the
// fields below narrow or extend that. A Serializer must not be changed after
// its first use; it is safe for concurrent use.
type Serializer[T any] struct {
	// Fields lists the JSON names to include; empty means all.
	Fields []string
	// Exclude lists JSON names to leave out.
	Exclude []string
	// ReadOnly lists JSON names that are output-only in addition to those
	// tagged read_only.
	ReadOnly []string
	// WriteOnly lists JSON names that are input-only in addition to those
	// tagged write_only.
	WriteOnly []string
	// Represent overrides the output of named fields: each function appends
	// the field's JSON value to dst (e.g. a foreign key as an id, an owner
	// as a username). Used for fields that are read-only on input.
	Represent map[string]func(dst []byte, v *T) []byte
	// Methods are fields computed in Go per object with the request's
	// context (DRF's SerializerMethodField), written after the model's
	// fields.
	Methods []Method[T]
	// Nested represents relations by other serializers (DRF's nested
	// serializers); the views load them without a query per row.
	Nested []Nested[T]
	// Slugs make foreign keys writable and shown by a unique field of
	// the related model (DRF's SlugRelatedField).
	Slugs []Slug
	// Validate runs after field validation succeeded, for cross-field rules
	// (DRF's validate()). Return a *models.ValidationError; an error that
	// implements views.Error (a StatusCode method) or a database error is
	// answered by the view as it is; any other error's text goes under
	// "non_field_errors".
	Validate func(ctx context.Context, v *T, mode Mode) error
	// Validator checks the validate rules the serializer does not
	// implement itself (see the package documentation), e.g.
	// validatorv10.New(nil). Nil means none: a rule that is not built in
	// then panics when the plan is built.
	Validator Validator

	state atomic.Pointer[compiled[T]]
}

// compiled is a Serializer's plan and its Represent functions by field.
type compiled[T any] struct {
	plan      *Plan
	represent []func(ctx context.Context, dst []byte, v *T) []byte // by field index; nil when none
	rel       related[T]                                           // method, nested and slug fields
}

// compiled returns the serializer's plan, building it on first use.
func (s *Serializer[T]) compiled() *compiled[T] {
	if st := s.state.Load(); st != nil {
		return st
	}
	cfg := config{fields: s.Fields, exclude: s.Exclude, readOnly: s.ReadOnly, writeOnly: s.WriteOnly, validator: s.Validator,
		related: len(s.Methods)+len(s.Nested)+len(s.Slugs) > 0}
	for name := range s.Represent {
		cfg.represent = append(cfg.represent, name)
	}
	st := &compiled[T]{}
	if cfg.empty() {
		st.plan = PlanFor[T]()
	} else {
		st.plan = buildPlan(reflect.TypeFor[T](), cfg)
	}
	if len(s.Represent) > 0 {
		st.represent = make([]func(context.Context, []byte, *T) []byte, len(st.plan.Fields))
		for name, fn := range s.Represent {
			if fn == nil {
				panicf("Represent[%q] is nil", name)
			}
			st.represent[st.plan.in.byName[name]] = func(_ context.Context, dst []byte, v *T) []byte { return fn(dst, v) }
		}
	}
	if cfg.related {
		s.addRelated(st)
	}
	if !s.state.CompareAndSwap(nil, st) {
		return s.state.Load()
	}
	return st
}

// Decode reads the JSON object in body into dst. For Create, dst should be a
// zero T (defaults are applied); for Update and Partial, dst is the current
// object and only fields present in body change. It returns a *ParseError
// for malformed JSON, trailing data or nesting beyond MaxDepth, and a
// *models.ValidationError listing every field problem with DRF's messages.
// Unknown and read-only fields are ignored.
// On any error, Validate's included, dst is left as it was.
func (s *Serializer[T]) Decode(ctx context.Context, body []byte, dst *T, mode Mode) error {
	st := s.compiled()
	saved := *dst
	var pend []pending // nested and slug inputs: allocated only when there are some
	err := decode(st.plan, body, unsafe.Pointer(dst), mode, &pend)
	if len(pend) > 0 {
		ve, _ := err.(*models.ValidationError)
		if err == nil || ve != nil {
			ve, err = st.resolve(ctx, dst, pend, ve)
			if err == nil && ve != nil {
				err = ve
			}
		}
	}
	if err != nil {
		*dst = saved
		return err
	}
	if s.Validate != nil {
		if err := runValidate(s.Validate(ctx, dst, mode)); err != nil {
			*dst = saved
			return err
		}
	}
	return nil
}

// DecodeFields is Decode for an update that writes only what the body
// gives: dst is a zero T, and set has bit i for each writable field
// Plan().Fields[i] the body gave a value, null included (a field the body
// leaves out keeps dst's zero value and its bit clear). ok is false, and
// nothing is decoded, when the body alone cannot say what Decode into the
// stored object would: the serializer has a Validate hook, a Write hook
// of a nested field or a writable slug (both need more than the body),
// or more than 64 fields. A nested field without a Write hook is decoded
// as Decode does: ignored when read-only, refused when it is an object.
// On error dst is left as it was.
func (s *Serializer[T]) DecodeFields(body []byte, dst *T, mode Mode) (set uint64, ok bool, err error) {
	st := s.compiled()
	if s.Validate != nil || st.plan.in.pends || len(st.plan.Fields) > 64 {
		return 0, false, nil
	}
	saved := *dst
	// Ignored and refused inputs leave nothing pending: no pend to pass.
	if _, err = decodeSet(st.plan, body, unsafe.Pointer(dst), mode, nil, nil, &set); err != nil {
		*dst = saved
		return 0, true, err
	}
	return set, true, nil
}

// AppendJSON appends the representation of v to dst, with a background
// context for Methods; views call AppendJSONContext.
func (s *Serializer[T]) AppendJSON(dst []byte, v *T) []byte {
	return appendObject(context.Background(), dst, s.compiled(), v)
}

// AppendJSONContext appends the representation of v to dst; Methods get
// ctx, the request's context.
func (s *Serializer[T]) AppendJSONContext(ctx context.Context, dst []byte, v *T) []byte {
	return appendObject(ctx, dst, s.compiled(), v)
}

// AppendList appends a JSON array of the representations of vs to dst,
// with a background context for Methods; views call AppendListContext.
func (s *Serializer[T]) AppendList(dst []byte, vs []T) []byte {
	return s.AppendListContext(context.Background(), dst, vs)
}

// AppendListContext appends a JSON array of the representations of vs to
// dst; Methods get ctx, the request's context.
func (s *Serializer[T]) AppendListContext(ctx context.Context, dst []byte, vs []T) []byte {
	st := s.compiled()
	dst = append(dst, '[')
	for i := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendObject(ctx, dst, st, &vs[i])
	}
	return append(dst, ']')
}

// Plan returns the serializer's field plan (built on first use and cached).
// It panics, with a message prefixed "cosworth/serializers:", when T or the
// serializer's configuration is invalid (an unknown field name in Fields,
// Exclude, ReadOnly, WriteOnly or Represent).
func (s *Serializer[T]) Plan() *Plan {
	return s.compiled().plan
}

// MaxDepth bounds the nesting of JSON values in a request body.
const MaxDepth = 32

// Plan describes how a type is serialized: the fields of the model plan
// (models.Meta) this serializer reads and writes, in its order, with its
// ReadOnly and WriteOnly lists applied. OpenAPI generation and views read
// it. It is immutable once built.
type Plan struct {
	Type reflect.Type
	// Meta is the model plan of Type, every field as tagged; Fields are
	// copies of some of its fields.
	Meta   *models.Meta
	Fields []Field
	// Extra are output fields that are no field of the model, written
	// after Fields: nested relations under a name of their own, then
	// method fields. Only Name, GoName, Type (the relation's or the
	// method's declared type), ReadOnly and Nullable are set.
	Extra []Field
	// Nested lists the fields represented through a relation (nested
	// serializers and slugs), whose relations the views load.
	Nested []NestedPlan

	in *planInternal
}

// Field is one serialized field: a field of the model plan, with ReadOnly,
// WriteOnly and Required as this serializer applies them.
type Field = models.Field
