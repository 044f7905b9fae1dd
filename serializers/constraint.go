package serializers

import (
	"errors"
	"strings"
	"unsafe"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/models"
)

// ConstraintError turns a database constraint violation on a write of v
// (after models.Classify) into the *models.ValidationError DRF would have
// reported, so a race that only the database catches still answers 400:
//
//   - unique: "<model> with this <field> already exists." on the field
//     (Django's wording, e.g. "author with this email already exists."),
//     or the field's cosworth:"unique_message=..." text; a constraint over
//     several columns is "The fields a, b must make a unique set." under
//     non_field_errors
//   - foreign key: `Invalid pk "<value>" - object does not exist.` on the
//     referencing field (SQLite does not name the column: the first
//     foreign-key field of T is used)
//   - not null: "This field may not be null." on the field
//
// Any other error, and a violation on columns T does not serialize, is
// returned unchanged (classified).
func (s *Serializer[T]) ConstraintError(err error, v *T) error {
	err = models.Classify(err)
	var ce *models.ConstraintError
	if !errors.As(err, &ce) {
		return err
	}
	p := s.compiled().plan
	fields := make([]int, 0, len(ce.Columns))
	for _, col := range ce.Columns {
		i := p.in.byColumn(p, col)
		if i < 0 {
			return err
		}
		fields = append(fields, i)
	}
	switch ce.Kind {
	case models.Unique:
		if len(fields) == 0 {
			return err
		}
		if len(fields) > 1 {
			names := make([]string, len(fields))
			for k, i := range fields {
				names[k] = p.Fields[i].Name
			}
			return &models.ValidationError{Fields: []models.FieldError{{Field: models.NonFieldErrors, Messages: []string{"The fields " + strings.Join(names, ", ") + " must make a unique set."}}}}
		}
		return fieldError(p.Fields[fields[0]].Name, uniqueMessage(p, fields[0]))
	case models.ForeignKey:
		if len(fields) == 0 {
			for i := range p.in.codecs {
				if p.in.codecs[i].fk {
					fields = append(fields, i)
					break
				}
			}
		}
		if len(fields) == 0 || v == nil {
			return err
		}
		i := fields[0]
		return fieldError(p.Fields[i].Name, foreignKeyMessage(&p.in.codecs[i], unsafe.Pointer(v)))
	case models.NotNull:
		if len(fields) == 0 {
			return err
		}
		return fieldError(p.Fields[fields[0]].Name, drfmsg.Null)
	}
	return err
}

func fieldError(name, msg string) *models.ValidationError {
	return &models.ValidationError{Fields: []models.FieldError{{Field: name, Messages: []string{msg}}}}
}

// byColumn returns the index of the field stored in column col, or -1.
func (in *planInternal) byColumn(p *Plan, col string) int {
	for i := range p.Fields {
		if p.Fields[i].Column == col {
			return i
		}
	}
	return -1
}
