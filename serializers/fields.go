package serializers

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/models"
)

// Per-kind decoding and encoding of one field at fp (a pointer to the
// field inside T). Decoders follow DRF's to_internal_value for the
// matching serializer field: CharField, BooleanField, IntegerField,
// FloatField, DateField, DateTimeField.

const maxStringLength = 1000 // DRF's MAX_STRING_LENGTH for numbers in strings

// buffers are Decode's working memory.
type buffers struct {
	scratch []byte // unescaped text that is parsed, not kept
	arena   []byte // the bytes of the strings the model keeps
}

// decode decodes v (not null) into the field at fp, reporting problems
// through add. It reports whether the rules left to validator/v10 should
// run: not when v could not be converted, nor for a blank string.
func (c *codec) decode(v *value, fp unsafe.Pointer, b *buffers, add func(string)) bool {
	scratch := &b.scratch
	if c.ptr && c.kind != kindOther {
		if c.kind == kindBool && v.kind == 's' && isNullString(stringContent(v, scratch)) {
			c.setNull(fp) // BooleanField with allow_null: "null", "" ... are None
			return true
		}
		fp = c.alloc(fp)
	}
	switch c.kind {
	case kindString:
		s, msg := c.toString(v, b)
		if msg != "" {
			add(msg)
			return false
		}
		*(*string)(fp) = s
		if s == "" {
			return false // DRF runs no validator on a blank string
		}
		c.checkString(s, add)
	case kindBool:
		b, ok := toBool(v, scratch)
		if !ok {
			add(msgInvalidBool)
			return false
		}
		*(*bool)(fp) = b
	case kindInt:
		neg, mag, msg := toInteger(v, scratch)
		if msg != "" {
			add(c.intMessage(v, msg))
			return false
		}
		i, msg := c.fitInt(neg, mag)
		if msg != "" {
			add(msg)
			return false
		}
		switch c.bits {
		case 8:
			*(*int8)(fp) = int8(i)
		case 16:
			*(*int16)(fp) = int16(i)
		case 32:
			*(*int32)(fp) = int32(i)
		default:
			*(*int64)(fp) = i
		}
		c.checkInt(i, add)
	case kindUint:
		neg, mag, msg := toInteger(v, scratch)
		if msg != "" {
			add(c.intMessage(v, msg))
			return false
		}
		u, msg := c.fitUint(neg, mag)
		if msg != "" {
			add(msg)
			return false
		}
		switch c.bits {
		case 8:
			*(*uint8)(fp) = uint8(u)
		case 16:
			*(*uint16)(fp) = uint16(u)
		case 32:
			*(*uint32)(fp) = uint32(u)
		default:
			*(*uint64)(fp) = u
		}
		c.checkUint(u, add)
	case kindFloat:
		f, ok := toFloat(v, scratch, c.bits)
		if !ok {
			add(msgInvalidNumber)
			return false
		}
		if c.bits == 32 {
			*(*float32)(fp) = float32(f)
		} else {
			*(*float64)(fp) = f
		}
		c.checkFloat(f, add)
	case kindDate:
		if v.kind != 's' {
			add(msgInvalidDate)
			return false
		}
		d, err := models.ParseDate(unsafeString(stringContent(v, scratch)))
		if err != nil {
			add(msgInvalidDate)
			return false
		}
		*(*models.Date)(fp) = d
	case kindTime:
		if v.kind != 's' {
			add(msgInvalidTime)
			return false
		}
		t, ok := parseDateTime(stringContent(v, scratch))
		if !ok {
			add(msgInvalidTime)
			return false
		}
		*(*time.Time)(fp) = t
	default:
		// Into a fresh value: the input replaces the old one (a map is not
		// merged into), and a failed Decode cannot have written into
		// memory the old value shares.
		fresh := reflect.New(c.typ)
		if err := json.Unmarshal(v.raw, fresh.Interface()); err != nil {
			add(msgInvalid)
			return false
		}
		reflect.NewAt(c.typ, fp).Elem().Set(fresh.Elem())
	}
	return true
}

// alloc points the pointer field at fp to a new zero value and returns it.
func (c *codec) alloc(fp unsafe.Pointer) unsafe.Pointer {
	var p unsafe.Pointer
	switch c.kind {
	case kindString:
		p = unsafe.Pointer(new(string))
	case kindBool:
		p = unsafe.Pointer(new(bool))
	case kindInt, kindUint:
		switch c.bits {
		case 8:
			p = unsafe.Pointer(new(uint8))
		case 16:
			p = unsafe.Pointer(new(uint16))
		case 32:
			p = unsafe.Pointer(new(uint32))
		default:
			p = unsafe.Pointer(new(uint64))
		}
	case kindFloat:
		if c.bits == 32 {
			p = unsafe.Pointer(new(float32))
		} else {
			p = unsafe.Pointer(new(float64))
		}
	case kindDate:
		p = unsafe.Pointer(new(models.Date))
	case kindTime:
		p = unsafe.Pointer(new(time.Time))
	}
	*(*unsafe.Pointer)(fp) = p
	return p
}

// setNull stores null into the field at fp: nil for pointers, the zero
// value for slices, maps and interfaces.
func (c *codec) setNull(fp unsafe.Pointer) {
	if c.ptr {
		*(*unsafe.Pointer)(fp) = nil
		return
	}
	reflect.NewAt(c.typ, fp).Elem().SetZero()
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// stringContent returns the decoded content of the string v, in scratch
// when it has escapes, else aliasing the body.
func stringContent(v *value, scratch *[]byte) []byte {
	inner := v.raw[1 : len(v.raw)-1]
	if !v.esc {
		return inner
	}
	*scratch, _ = unquote((*scratch)[:0], inner)
	return *scratch
}

// toString is CharField.to_internal_value: strings as they are (trimmed),
// numbers as Python's str() writes them, anything else invalid.
func (c *codec) toString(v *value, b *buffers) (string, string) {
	var s string
	switch v.kind {
	case 's':
		inner := v.raw[1 : len(v.raw)-1]
		start := len(b.arena)
		var lone rune
		if v.esc {
			b.arena, lone = unquote(b.arena, inner)
		} else {
			b.arena = append(b.arena, inner...)
		}
		if lone != 0 {
			return "", "Surrogate characters are not allowed: U+" + strings.ToUpper(strconv.FormatInt(int64(lone), 16)) + "."
		}
		s = unsafeString(b.arena[start:])
	case 'n':
		if v.float {
			f, err := strconv.ParseFloat(unsafeString(v.raw), 64)
			if err != nil && !math.IsInf(f, 0) {
				return "", drfmsg.InvalidString
			}
			switch {
			case math.IsInf(f, 1):
				s = "inf" // Python's str(float("1e400"))
			case math.IsInf(f, -1):
				s = "-inf"
			default:
				s = string(appendPyFloat(b.scratch[:0], f, 64))
			}
		} else {
			raw := v.raw
			if isNegZero(raw) {
				raw = raw[1:]
			}
			s = string(raw)
		}
	default:
		return "", drfmsg.InvalidString
	}
	if c.trim && s != "" && (mayBeSpace(s[0]) || mayBeSpace(s[len(s)-1])) {
		s = strings.TrimFunc(s, pyIsSpace)
	}
	if s == "" && !c.blankOK {
		return "", drfmsg.Blank
	}
	return s, ""
}

func isNegZero(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '-' {
		return false
	}
	for _, c := range raw[1:] {
		if c != '0' {
			return false
		}
	}
	return true
}

// mayBeSpace reports whether a string starting or ending with byte c may
// start or end with Python whitespace: an ASCII space or control byte, or
// a multi-byte character.
func mayBeSpace(c byte) bool { return c <= ' ' || c >= 0x80 }

// pyIsSpace is Python's str.isspace for one character.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// toBool is BooleanField.to_internal_value.
func toBool(v *value, scratch *[]byte) (b, ok bool) {
	switch v.kind {
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		f, err := strconv.ParseFloat(unsafeString(v.raw), 64)
		if err == nil && f == 1 {
			return true, true
		}
		if err == nil && f == 0 {
			return false, true
		}
		return false, false
	case 's':
		switch string(stringContent(v, scratch)) {
		case "t", "T", "y", "Y", "yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1":
			return true, true
		case "f", "F", "n", "N", "no", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0":
			return false, true
		}
	}
	return false, false
}

// isNullString reports DRF's BooleanField NULL_VALUES spellings.
func isNullString(b []byte) bool {
	switch string(b) {
	case "null", "Null", "NULL", "":
		return true
	}
	return false
}

// toInteger is IntegerField.to_internal_value up to the value's sign and
// magnitude: JSON integers, floats with no fraction (12.0, 1e3: Python's
// str() of them ends in ".0"), and strings Python's int() accepts after
// DRF strips a trailing ".0". A magnitude beyond 64 bits is invalid.
func toInteger(v *value, scratch *[]byte) (neg bool, mag uint64, msg string) {
	switch v.kind {
	case 'n':
		if !v.float {
			neg, mag, ok := parseDigits(v.raw, false)
			if !ok {
				return false, 0, msgInvalidInt
			}
			return neg, mag, ""
		}
		f, err := strconv.ParseFloat(unsafeString(v.raw), 64)
		// Python's str(float) switches to exponent notation at 1e16,
		// which int() refuses.
		if err != nil || math.Abs(f) >= 1e16 || f != math.Trunc(f) {
			return false, 0, msgInvalidInt
		}
		return f < 0, uint64(math.Abs(f)), ""
	case 's':
		s := stringContent(v, scratch)
		if utf8.RuneCount(s) > maxStringLength {
			return false, 0, msgStringTooBig
		}
		s = stripDecimalZero(s)
		s = trimPySpace(s)
		neg, mag, ok := parseDigits(s, true)
		if !ok {
			return false, 0, msgInvalidInt
		}
		return neg, mag, ""
	}
	return false, 0, msgInvalidInt
}

// stripDecimalZero removes what DRF's re_decimal (\.0*\s*$) matches.
func stripDecimalZero(s []byte) []byte {
	i := len(s)
	for i > 0 && isPyASCIISpace(s[i-1]) {
		i--
	}
	for i > 0 && s[i-1] == '0' {
		i--
	}
	if i > 0 && s[i-1] == '.' {
		return s[:i-1]
	}
	return s
}

func isPyASCIISpace(c byte) bool {
	return c == ' ' || c >= '\t' && c <= '\r' || c >= 0x1c && c <= 0x1f
}

func trimPySpace(s []byte) []byte {
	for len(s) > 0 && isPyASCIISpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isPyASCIISpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// parseDigits parses an optionally signed decimal integer. With
// underscores, single underscores between digits are allowed, as in
// Python's int(); a leading "+" is allowed then too.
func parseDigits(s []byte, python bool) (neg bool, mag uint64, ok bool) {
	if len(s) > 0 && (s[0] == '-' || python && s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return false, 0, false
	}
	prevDigit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' && python && prevDigit && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			prevDigit = false
			continue
		}
		if c < '0' || c > '9' {
			return false, 0, false
		}
		d := uint64(c - '0')
		if mag > (math.MaxUint64-d)/10 {
			return false, 0, false // beyond 64 bits
		}
		mag = mag*10 + d
		prevDigit = true
	}
	return neg, mag, true
}

// intMessage is the message for an integer that does not parse: for a
// foreign key, DRF's PrimaryKeyRelatedField names the type it got.
func (c *codec) intMessage(v *value, msg string) string {
	if !c.fk || msg != msgInvalidInt {
		return msg
	}
	if v.kind == 'n' && !v.float {
		// An integer too large for any row: DRF looks it up and finds none.
		if len(v.raw) <= 40 {
			return `Invalid pk "` + string(v.raw) + `" - object does not exist.`
		}
		return msg
	}
	return "Incorrect type. Expected pk value, received " + pythonType(v.kind, v.float) + "."
}

// fitInt checks that the value fits the field's type: beyond int64 it is
// invalid; beyond a smaller type it is out of DRF's min/max value range.
func (c *codec) fitInt(neg bool, mag uint64) (int64, string) {
	if neg {
		if mag > 1<<63 {
			return 0, msgInvalidInt
		}
	} else if mag > math.MaxInt64 {
		return 0, msgInvalidInt
	}
	var i int64
	if neg {
		i = -int64(mag-1) - 1
	} else {
		i = int64(mag)
	}
	if c.bits < 64 {
		lim := int64(1) << (c.bits - 1)
		if i >= lim {
			return 0, "Ensure this value is less than or equal to " + strconv.FormatInt(lim-1, 10) + "."
		}
		if i < -lim {
			return 0, "Ensure this value is greater than or equal to " + strconv.FormatInt(-lim, 10) + "."
		}
	}
	return i, ""
}

func (c *codec) fitUint(neg bool, mag uint64) (uint64, string) {
	if neg && mag != 0 {
		return 0, "Ensure this value is greater than or equal to 0."
	}
	if c.bits < 64 && mag >= 1<<c.bits {
		return 0, "Ensure this value is less than or equal to " + strconv.FormatUint(1<<c.bits-1, 10) + "."
	}
	return mag, ""
}

// toFloat is FloatField.to_internal_value: numbers, true and false (1.0
// and 0.0, as Python's float(True)), and numeric strings Python's float()
// accepts; NaN and infinities are refused.
func toFloat(v *value, scratch *[]byte, bits int) (float64, bool) {
	switch v.kind {
	case 'n':
		f, err := strconv.ParseFloat(unsafeString(v.raw), bits)
		return f, err == nil
	case 't':
		return 1, true
	case 'f':
		return 0, true
	case 's':
		s := stringContent(v, scratch)
		if utf8.RuneCount(s) > maxStringLength {
			return 0, false
		}
		s = trimPySpace(s)
		if len(s) == 0 {
			return 0, false
		}
		// Python allows underscores between digits; strconv allows them
		// only with a base prefix, so drop them after checking placement.
		clean := make([]byte, 0, 32)
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= '0' && c <= '9', c == '.', c == '+', c == '-', c == 'e', c == 'E':
				clean = append(clean, c)
			case c == '_' && i > 0 && i+1 < len(s) && isDigit(s[i-1]) && isDigit(s[i+1]):
			default:
				return 0, false
			}
		}
		f, err := strconv.ParseFloat(unsafeString(clean), bits)
		return f, err == nil
	}
	return 0, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
