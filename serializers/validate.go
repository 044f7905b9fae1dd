package serializers

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/go-playground/validator/v10"
)

// ruleOp is a validation rule implemented natively, with DRF's message.
type ruleOp uint8

const (
	opMaxLen ruleOp = iota + 1
	opMinLen
	opLen
	opMin // >= n
	opMax // <= n
	opGt
	opLt
	opEq
	opEmail
	opURL
	opOneOf
	opNumeric
	opNumber
)

// rule is one compiled validate rule.
type rule struct {
	op      ruleOp
	n       int     // lengths
	i       int64   // bounds for signed ints
	u       uint64  // bounds for unsigned ints
	f       float64 // bounds for floats
	neg     bool    // the bound is negative (for unsigned fields)
	choices []string
	msg     string // fixed message; "" when built from the input
}

// Messages, DRF's and Django's where they exist.
const (
	msgRequired      = "This field is required."
	msgNull          = "This field may not be null."
	msgBlank         = "This field may not be blank."
	msgInvalidString = "Not a valid string."
	msgInvalidInt    = "A valid integer is required."
	msgInvalidNumber = "A valid number is required."
	msgInvalidBool   = "Must be a valid boolean."
	msgInvalidDate   = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
	msgInvalidTime   = "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
	msgStringTooBig  = "String value too large."
	msgNullChars     = "Null characters are not allowed."
	msgEmail         = "Enter a valid email address."
	msgURL           = "Enter a valid URL."
	msgNumber        = "Enter a number."
	msgInvalid       = "Invalid value."
	msgNotADict      = "Invalid data. Expected a dictionary, but got "
)

// crossField rules need the whole struct: use Serializer.Validate.
func crossField(name string) bool {
	return strings.HasSuffix(name, "field") || strings.HasPrefix(name, "required_") ||
		strings.HasPrefix(name, "excluded_") || strings.HasPrefix(name, "skip_unless") ||
		strings.HasPrefix(name, "fieldcontains") || strings.HasPrefix(name, "fieldexcludes")
}

// parseValidateTag compiles the validate tag: "required" and "omitempty"
// are flags, the common rules become native rules, and the rest is left to
// validator/v10, checked now so an unknown tag panics at plan time.
func parseValidateTag(where, tag string, f *Field, c *codec, v *validator.Validate) {
	if tag == "" || tag == "-" {
		return
	}
	parts := strings.Split(tag, ",")
	var rest []string
	for i, part := range parts {
		name, param, _ := strings.Cut(part, "=")
		if name == "dive" || name == "keys" || strings.Contains(part, "|") {
			rest = append(rest, parts[i:]...)
			break
		}
		if crossField(name) {
			panicf("%s: validate rule %q compares fields; write it as Serializer.Validate", where, part)
		}
		switch name {
		case "required":
			f.Required = true
			continue
		case "omitempty":
			rest = append(rest, part)
			c.omitEmpty = true
			continue
		}
		r, ok := nativeRule(where, name, param, c)
		if ok {
			c.rules = append(c.rules, r)
			continue
		}
		rest = append(rest, part)
	}
	if len(rest) == 1 && rest[0] == "omitempty" {
		rest = nil
	}
	if len(rest) == 0 {
		return
	}
	c.varTag = strings.Join(rest, ",")
	elem := c.typ
	if elem.Kind() == reflect.Pointer {
		elem = elem.Elem()
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				panicf("%s: validate tag %q: %v (use a validator/v10 rule, or register yours with RegisterValidation on a validator set as Serializer.Validator)", where, c.varTag, r)
			}
		}()
		_ = v.Var(reflect.Zero(elem).Interface(), c.varTag)
	}()
}

// nativeRule compiles a rule the serializer checks itself.
func nativeRule(where, name, param string, c *codec) (rule, bool) {
	str := c.kind == kindString
	num := c.kind == kindInt || c.kind == kindUint || c.kind == kindFloat
	needParam := func() {
		if param == "" {
			panicf("%s: validate rule %q needs a value, e.g. %s=10", where, name, name)
		}
	}
	switch name {
	case "max", "min", "len", "gte", "lte", "gt", "lt", "eq":
		if !str && !num {
			return rule{}, false
		}
		needParam()
		if str {
			n, err := strconv.Atoi(param)
			if err != nil || n < 0 {
				panicf("%s: validate rule %s=%s on a string needs a character count", where, name, param)
			}
			switch name {
			case "max", "lte":
				return rule{op: opMaxLen, n: n, msg: "Ensure this field has no more than " + param + " characters."}, true
			case "min", "gte":
				return rule{op: opMinLen, n: n, msg: "Ensure this field has at least " + param + " characters."}, true
			case "len", "eq":
				if name == "eq" {
					return rule{}, false
				}
				return rule{op: opLen, n: n, msg: "Ensure this field has exactly " + param + " characters."}, true
			}
			return rule{}, false // gt, lt on strings: validator/v10's meaning
		}
		r := numBound(where, name, param, c)
		switch name {
		case "min", "gte":
			r.op, r.msg = opMin, "Ensure this value is greater than or equal to "+param+"."
		case "max", "lte":
			r.op, r.msg = opMax, "Ensure this value is less than or equal to "+param+"."
		case "gt":
			r.op, r.msg = opGt, "Ensure this value is greater than "+param+"."
		case "lt":
			r.op, r.msg = opLt, "Ensure this value is less than "+param+"."
		case "len", "eq":
			r.op, r.msg = opEq, "Ensure this value is equal to "+param+"."
		}
		return r, true
	case "email", "url", "numeric", "number":
		if !str {
			if name == "numeric" && num {
				return rule{}, false // always true for numbers; let validator say so
			}
			panicf("%s: validate rule %q applies to strings", where, name)
		}
		switch name {
		case "email":
			return rule{op: opEmail, msg: msgEmail}, true
		case "url":
			return rule{op: opURL, msg: msgURL}, true
		case "numeric":
			return rule{op: opNumeric, msg: msgNumber}, true
		default:
			return rule{op: opNumber, msg: msgNumber}, true
		}
	case "oneof":
		if !str && c.kind != kindInt && c.kind != kindUint {
			return rule{}, false
		}
		needParam()
		choices := splitOneOf(param)
		for _, ch := range choices {
			if c.kind == kindInt {
				if _, err := strconv.ParseInt(ch, 10, 64); err != nil {
					panicf("%s: oneof choice %q is not an integer", where, ch)
				}
			}
			if c.kind == kindUint {
				if _, err := strconv.ParseUint(ch, 10, 64); err != nil {
					panicf("%s: oneof choice %q is not an unsigned integer", where, ch)
				}
			}
		}
		return rule{op: opOneOf, choices: choices}, true
	}
	return rule{}, false
}

func numBound(where, name, param string, c *codec) rule {
	var r rule
	f, err := strconv.ParseFloat(param, 64)
	if err != nil {
		panicf("%s: validate rule %s=%s needs a number", where, name, param)
	}
	r.f = f
	r.neg = f < 0
	switch c.kind {
	case kindInt:
		i, err := strconv.ParseInt(param, 10, 64)
		if err != nil {
			panicf("%s: validate rule %s=%s on an integer field needs an integer", where, name, param)
		}
		r.i = i
	case kindUint:
		if !r.neg {
			u, err := strconv.ParseUint(param, 10, 64)
			if err != nil {
				panicf("%s: validate rule %s=%s on an unsigned field needs an integer", where, name, param)
			}
			r.u = u
		}
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

// checkString runs the string rules on s, reporting each failure.
func (c *codec) checkString(s string, add func(string)) {
	if c.omitEmpty && s == "" {
		return
	}
	for i := range c.rules {
		r := &c.rules[i]
		ok := true
		switch r.op {
		case opMaxLen:
			ok = utf8.RuneCountInString(s) <= r.n
		case opMinLen:
			ok = utf8.RuneCountInString(s) >= r.n
		case opLen:
			ok = utf8.RuneCountInString(s) == r.n
		case opEmail:
			ok = validEmail(s)
		case opURL:
			ok = validURL(s)
		case opNumeric:
			ok = validNumeric(s)
		case opNumber:
			ok = validNumber(s)
		case opOneOf:
			ok = false
			for _, ch := range r.choices {
				if ch == s {
					ok = true
					break
				}
			}
			if !ok {
				add(`"` + s + `" is not a valid choice.`)
				continue
			}
		}
		if !ok {
			add(r.msg)
		}
	}
	if strings.IndexByte(s, 0) >= 0 {
		add(msgNullChars)
	}
}

func (c *codec) checkInt(v int64, add func(string)) {
	if c.omitEmpty && v == 0 {
		return
	}
	for i := range c.rules {
		r := &c.rules[i]
		var ok bool
		switch r.op {
		case opMin:
			ok = v >= r.i
		case opMax:
			ok = v <= r.i
		case opGt:
			ok = v > r.i
		case opLt:
			ok = v < r.i
		case opEq:
			ok = v == r.i
		case opOneOf:
			s := strconv.FormatInt(v, 10)
			for _, ch := range r.choices {
				if ch == s {
					ok = true
				}
			}
			if !ok {
				add(`"` + s + `" is not a valid choice.`)
				continue
			}
		default:
			ok = true
		}
		if !ok {
			add(r.msg)
		}
	}
}

func (c *codec) checkUint(v uint64, add func(string)) {
	if c.omitEmpty && v == 0 {
		return
	}
	for i := range c.rules {
		r := &c.rules[i]
		var ok bool
		switch r.op {
		case opMin:
			ok = r.neg || v >= r.u
		case opMax:
			ok = !r.neg && v <= r.u
		case opGt:
			ok = r.neg || v > r.u
		case opLt:
			ok = !r.neg && v < r.u
		case opEq:
			ok = !r.neg && v == r.u
		case opOneOf:
			s := strconv.FormatUint(v, 10)
			for _, ch := range r.choices {
				if ch == s {
					ok = true
				}
			}
			if !ok {
				add(`"` + s + `" is not a valid choice.`)
				continue
			}
		default:
			ok = true
		}
		if !ok {
			add(r.msg)
		}
	}
}

func (c *codec) checkFloat(v float64, add func(string)) {
	if c.omitEmpty && v == 0 {
		return
	}
	for i := range c.rules {
		r := &c.rules[i]
		var ok bool
		switch r.op {
		case opMin:
			ok = v >= r.f
		case opMax:
			ok = v <= r.f
		case opGt:
			ok = v > r.f
		case opLt:
			ok = v < r.f
		case opEq:
			ok = v == r.f
		default:
			ok = true
		}
		if !ok {
			add(r.msg)
		}
	}
}

// checkVar runs the rules left to validator/v10 on the field at fp.
func (c *codec) checkVar(v *validator.Validate, fp unsafe.Pointer, add func(string)) {
	if c.varTag == "" {
		return
	}
	val := reflect.NewAt(c.typ, fp).Elem()
	if c.ptr {
		if val.IsNil() {
			return
		}
		val = val.Elem()
	}
	if err := v.Var(val.Interface(), c.varTag); err != nil {
		add(msgInvalid)
	}
}
