package serializers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unsafe"

	"github.com/cosworth/cosworth/models"
)

// Related says which fields of a write only the database can validate,
// and how to look them up: DRF's UniqueValidator (a unique field's value
// held by another row) and PrimaryKeyRelatedField's lookup (a foreign key
// naming no row). DecodeRelated reports their errors in the same 400 as
// every other field's, as DRF does; the database's constraints stay the
// race-proof backstop (see RelatedError). The views build one per view;
// the zero value checks nothing.
type Related[T any] struct {
	// Fields are the indexes, in Plan().Fields, of the single-column
	// unique and foreign-key fields Check can look up.
	Fields []int
	// Check looks up fields (some of Fields, each holding a non-null
	// value in v) in one query and returns those that fail. conn is
	// Related.Conn, as it is (the transaction the lookup must run in);
	// mode says whether v is new (Create) or an existing row, which a
	// unique lookup must not count.
	Check func(ctx context.Context, conn any, v *T, fields []int, mode Mode) (failed []int, err error)
	// Conn is passed to Check.
	Conn any
	// Eager looks the fields up even when the body is otherwise valid,
	// before Validate, as DRF does. Without it a valid body is not looked
	// up: the write that follows finds the same problems through the
	// database's constraints, and RelatedError then looks every field up,
	// so the answer is the same with one round trip less on success.
	// Choose Eager when code you do not control (a Perform hook) sees the
	// object before the write.
	Eager bool
}

// DecodeRelated is Decode with rel's database lookups: when the body has
// field errors, the unique and foreign-key fields it set without errors
// are looked up too, and their errors join the others in field order
// ({"isbn": ["book with this isbn already exists."], "author": ["Invalid
// pk \"99\" - object does not exist."], "price_cents": [...]}). When the
// fields are valid they are looked up only with rel.Eager, or when
// Validate fails (DRF reports the field errors, and does not run
// validate()). Without rel.Check it is Decode. On error dst is left as it
// was.
func (s *Serializer[T]) DecodeRelated(ctx context.Context, body []byte, dst *T, mode Mode, rel *Related[T]) error {
	if rel == nil || rel.Check == nil || len(rel.Fields) == 0 {
		return s.Decode(ctx, body, dst, mode)
	}
	st := s.compiled()
	saved := *dst
	var pend []pending // nested and slug inputs, as in Decode
	bits, err := decodeSet(st.plan, body, unsafe.Pointer(dst), mode, rel.Fields, &pend, nil)
	if len(pend) > 0 {
		if ve, _ := err.(*models.ValidationError); err == nil || ve != nil {
			ve, err = st.resolve(ctx, dst, pend, ve)
			if err == nil && ve != nil {
				err = ve
			}
		}
	}
	ve, _ := err.(*models.ValidationError) // decode's own, never wrapped
	if len(pend) > 0 && ve != nil {
		// A slug that named no row is not looked up again by its key.
		for k, i := range rel.Fields[:min(len(rel.Fields), 64)] {
			if bits&(1<<k) != 0 && hasErrors(ve, st.plan.Fields[i].Name) {
				bits &^= 1 << k
			}
		}
	}
	if err != nil && ve == nil {
		*dst = saved
		return err
	}
	if (ve != nil || rel.Eager) && bits != 0 {
		if rerr := s.lookUp(ctx, dst, mode, rel, fieldSet(rel.Fields, bits), &ve); rerr != nil {
			*dst = saved
			return rerr
		}
	}
	if ve != nil {
		*dst = saved
		return ve
	}
	if s.Validate != nil {
		if verr := runValidate(s.Validate(ctx, dst, mode)); verr != nil {
			if !rel.Eager && bits != 0 {
				// DRF would have looked the fields up first and reported
				// them instead of validate()'s error.
				if rerr := s.lookUp(ctx, dst, mode, rel, fieldSet(rel.Fields, bits), &ve); rerr == nil && ve != nil {
					verr = ve
				}
			}
			*dst = saved
			return verr
		}
	}
	return nil
}

// RelatedError is what a write of v that failed with err answers: when
// err is a unique or foreign-key violation (a race, or a body the
// lookups did not see, without rel.Eager) every field of rel.Fields
// holding a value is looked up, outside the failed transaction, and all
// that fail are reported at once; when none does (the row that collided
// is gone again), or err is another error, it is ConstraintError(err, v).
func (s *Serializer[T]) RelatedError(ctx context.Context, err error, v *T, mode Mode, rel *Related[T]) error {
	err = models.Classify(err)
	var ce *models.ConstraintError
	if rel == nil || rel.Check == nil || v == nil || !errors.As(err, &ce) || (ce.Kind != models.Unique && ce.Kind != models.ForeignKey) {
		return s.ConstraintError(err, v)
	}
	p := s.compiled().plan
	set := make([]int, 0, len(rel.Fields))
	for _, i := range rel.Fields {
		if !p.in.codecs[i].isNull(unsafe.Add(unsafe.Pointer(v), p.in.codecs[i].offset)) {
			set = append(set, i)
		}
	}
	var ve *models.ValidationError
	after := *rel
	after.Conn = nil // the write's transaction is over
	if rerr := s.lookUp(ctx, v, mode, &after, set, &ve); rerr != nil || ve == nil {
		return s.ConstraintError(err, v)
	}
	return ve
}

// fieldSet lists the fields of fields whose bits are set.
func fieldSet(fields []int, bits uint64) []int {
	set := make([]int, 0, len(fields))
	for k, i := range fields[:min(len(fields), 64)] {
		if bits&(1<<k) != 0 {
			set = append(set, i)
		}
	}
	return set
}

// lookUp runs rel.Check over set and adds the errors of the fields that
// fail to *ve (allocating it when nil), in field order.
func (s *Serializer[T]) lookUp(ctx context.Context, v *T, mode Mode, rel *Related[T], set []int, ve **models.ValidationError) error {
	if len(set) == 0 {
		return nil
	}
	failed, err := rel.Check(ctx, rel.Conn, v, set, mode)
	if err != nil || len(failed) == 0 {
		return err
	}
	p := s.compiled().plan
	slices.Sort(failed)
	for _, i := range failed {
		c := &p.in.codecs[i]
		msg := ""
		if c.fk {
			msg = foreignKeyMessage(c, unsafe.Pointer(v))
		} else {
			msg = uniqueMessage(p, i)
		}
		if *ve == nil {
			*ve = &models.ValidationError{}
		}
		insertFieldError(p, *ve, i, msg)
	}
	return nil
}

// insertFieldError adds msg for field i of p to ve before the errors of
// the fields after it, so the body lists fields in the plan's order as
// DRF's does.
func insertFieldError(p *Plan, ve *models.ValidationError, i int, msg string) {
	name := p.Fields[i].Name
	at := len(ve.Fields)
	for k, fe := range ve.Fields {
		if fe.Field == name {
			ve.Fields[k].Messages = append(ve.Fields[k].Messages, msg)
			return
		}
		if j, ok := p.in.byName[fe.Field]; (ok && j > i || fe.Field == models.NonFieldErrors) && k < at {
			at = k
		}
	}
	ve.Fields = slices.Insert(ve.Fields, at, models.FieldError{Field: name, Messages: []string{msg}})
}

// uniqueMessage is DRF's UniqueValidator message for field i: the
// field's unique_message, or Django's "<model> with this <field> already
// exists.".
func uniqueMessage(p *Plan, i int) string {
	if msg := p.in.codecs[i].uniqMsg; msg != "" {
		return msg
	}
	return p.in.verbose + " with this " + strings.ReplaceAll(p.Fields[i].Name, "_", " ") + " already exists."
}

// foreignKeyMessage is PrimaryKeyRelatedField's message for the value of
// c in the object at base.
func foreignKeyMessage(c *codec, base unsafe.Pointer) string {
	val := c.encode(nil, unsafe.Add(base, c.offset))
	if len(val) >= 2 && val[0] == '"' {
		val = val[1 : len(val)-1]
	}
	return `Invalid pk "` + string(val) + `" - object does not exist.`
}

// isNull reports whether the field at fp holds null (a nil pointer).
func (c *codec) isNull(fp unsafe.Pointer) bool {
	return c.ptr && *(*unsafe.Pointer)(fp) == nil
}
