package serializers

import (
	"context"
	"errors"
	"unicode/utf8"
	"unsafe"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/models"
)

// maxStackFields is how many fields Decode tracks without allocating.
const maxStackFields = 32

// decode checks body in one pass (UTF-8, JSON syntax, depth), noting where
// each known field's value is, then decodes and validates the fields in
// the plan's order into the T at base.
func decode(p *Plan, body []byte, base unsafe.Pointer, mode Mode, pend *[]pending) error {
	_, err := decodeSet(p, body, base, mode, nil, pend, nil)
	return err
}

// decodeSet is decode that also reports, as bit k of set, whether field
// watch[k] (an index in p.Fields; k < 64) was set by body to a value
// other than null and decoded without errors: the fields whose database
// lookups DecodeRelated runs. Values of nested and slug fields that need
// a hook or a lookup are appended to pend.
func decodeSet(p *Plan, body []byte, base unsafe.Pointer, mode Mode, watch []int, pend *[]pending, present *uint64) (set uint64, err error) {
	in := p.in
	if err := checkUTF8(body); err != nil {
		return 0, err
	}
	sc := scanner{data: body}
	if len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF {
		return 0, &ParseError{Reason: errBOM + ": line 1 column 1 (char 0)"}
	}
	sc.ws()
	var stack [maxStackFields]value
	var seen []value
	if n := len(in.codecs) + in.extraSlots; n <= maxStackFields {
		seen = stack[:n]
	} else {
		seen = make([]value, n)
	}
	if sc.pos < len(body) && body[sc.pos] == '{' {
		sc.depth = 1
		topObject(&sc, in, seen)
	} else {
		var v value
		if sc.value(&v) {
			sc.ws()
			if sc.pos != len(body) {
				sc.fail(errExtraData, sc.pos)
			}
			if sc.err == nil {
				return 0, notADict(v.kind, v.float)
			}
		}
	}
	if sc.err == nil {
		sc.ws()
		if sc.pos != len(body) {
			sc.fail(errExtraData, sc.pos)
		}
	}
	if sc.err != nil {
		return 0, sc.err
	}

	var ve *models.ValidationError
	// Strings of the object share one allocation: their bytes are copied
	// out of the body (which the caller reuses) into arena.
	var b buffers
	total := 0
	for i := range in.codecs {
		if in.codecs[i].kind == kindString && seen[i].kind == 's' && !p.Fields[i].ReadOnly {
			total += len(seen[i].raw) - 2
		}
	}
	if total > 0 {
		b.arena = make([]byte, 0, total)
	}
	for i := range in.codecs {
		c := &in.codecs[i]
		f := &p.Fields[c.idx]
		if f.ReadOnly {
			continue
		}
		fp := unsafe.Add(base, c.offset)
		add := func(msg string) {
			if ve == nil {
				ve = &models.ValidationError{}
			}
			ve.Add(f.Name, msg)
		}
		v := &seen[i]
		if c.input != 0 && in.skipCodec(c, v) {
			continue
		}
		if present != nil && v.kind != 0 && c.idx < 64 {
			*present |= 1 << c.idx
		}
		switch {
		case v.kind == 0: // absent
			if mode == Partial {
				continue
			}
			if mode == Create && c.setDef != nil {
				c.setDef(fp)
				continue
			}
			if f.Required {
				add(drfmsg.Required)
			}
		case v.kind == '0': // null
			if !c.nullable {
				add(drfmsg.Null)
				continue
			}
			c.setNull(fp)
		default:
			if c.decode(v, fp, &b, add) && c.varTag != "" {
				c.checkVar(fp, add)
			}
		}
	}
	if len(in.inputs) > 0 {
		takeInputs(in, seen, func(field, msg string) {
			if ve == nil {
				ve = &models.ValidationError{}
			}
			ve.Add(field, msg)
		}, pend)
	}
	for k, i := range watch[:min(len(watch), 64)] {
		if kind := seen[i].kind; kind != 0 && kind != '0' && !p.Fields[i].ReadOnly && !hasErrors(ve, p.Fields[i].Name) {
			set |= 1 << k
		}
	}
	if ve != nil {
		return set, ve
	}
	return set, nil
}

// hasErrors reports whether ve holds messages for field.
func hasErrors(ve *models.ValidationError, field string) bool {
	if ve == nil {
		return false
	}
	for _, f := range ve.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// topObject scans the body's object, remembering for each known field the
// value of its last occurrence (duplicate keys: the last wins, as in
// Python).
func topObject(s *scanner, in *planInternal, seen []value) {
	s.pos++ // '{'
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return
	}
	var key, val value
	var kbuf [64]byte
	for {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			s.fail(errExpectName, s.pos)
			return
		}
		key.kind = 's'
		if !s.str(&key) {
			return
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			s.fail(errExpectColon, s.pos)
			return
		}
		s.pos++
		s.ws()
		if !s.value(&val) {
			return
		}
		name := key.raw[1 : len(key.raw)-1]
		if key.esc {
			name, _ = unquote(kbuf[:0], name)
		}
		if i, ok := in.byName[string(name)]; ok {
			seen[i] = val
		}
		s.ws()
		if s.pos < len(s.data) {
			switch s.data[s.pos] {
			case '}':
				s.pos++
				return
			case ',':
				s.pos++
				s.ws()
				continue
			}
		}
		s.fail(errExpectComma, s.pos)
		return
	}
}

// notADict is DRF's error for a body that is JSON but not an object,
// naming the value's Python type; a null body is DRF's "No data provided".
func notADict(kind byte, float bool) error {
	if kind == '0' {
		return &models.ValidationError{Fields: []models.FieldError{{Field: models.NonFieldErrors, Messages: []string{drfmsg.NoData}}}}
	}
	return &models.ValidationError{Fields: []models.FieldError{{Field: models.NonFieldErrors, Messages: []string{drfmsg.NotADict + pythonType(kind, float) + "."}}}}
}

// pythonType is the name of the Python type json.loads gives a value.
func pythonType(kind byte, float bool) string {
	name := "dict"
	switch kind {
	case '[':
		name = "list"
	case 's':
		name = "str"
	case 'n':
		name = "int"
		if float {
			name = "float"
		}
	case 't', 'f':
		name = "bool"
	case '0':
		name = "NoneType"
	}
	return name
}

// checkUTF8 refuses a body that is not UTF-8, with Python's codec message.
func checkUTF8(b []byte) error {
	if utf8.Valid(b) {
		return nil
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			reason := "invalid start byte"
			c := b[i]
			if c >= 0xC2 && c <= 0xF4 {
				reason = "invalid continuation byte"
				if !utf8.FullRune(b[i:]) {
					reason = "unexpected end of data"
				}
			}
			return &ParseError{Reason: "'utf-8' codec can't decode byte 0x" + string([]byte{hexDigit(c >> 4), hexDigit(c & 0xf)}) + " in position " + itoa(i) + ": " + reason}
		}
		i += size
	}
	return nil
}

func hexDigit(c byte) byte { return "0123456789abcdef"[c] }

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	if i == 0 {
		return "0"
	}
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

// runValidate runs Serializer.Validate's error through DRF's rules: a
// *models.ValidationError as it is; errors the views answer themselves (a
// views.Error, context errors, and database errors, classified) as they
// are; any other error's text under non_field_errors.
func runValidate(err error) error {
	if err == nil {
		return nil
	}
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if models.IsDriverError(err) {
		// A query in Validate failed: never show its text to the client.
		return models.Classify(err)
	}
	return &models.ValidationError{Fields: []models.FieldError{{Field: models.NonFieldErrors, Messages: []string{err.Error()}}}}
}
