package serializers

import (
	"net/netip"
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
				panicf("%s: validate tag %q: %v", where, c.varTag, r)
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

// validNumeric is validator/v10's numeric: ^[-+]?[0-9]+(?:\.[0-9]+)?$.
func validNumeric(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	return validNumber(intPart) && (!hasDot || validNumber(frac))
}

// validNumber is validator/v10's number: ^[0-9]+$.
func validNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validEmail is Django's EmailValidator (unquoted local parts; domain
// names, localhost or a bracketed IP literal).
func validEmail(s string) bool {
	if s == "" || len(s) > 320 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return false
	}
	user, domain := s[:at], s[at+1:]
	if !validEmailUser(user) {
		return false
	}
	if domain == "localhost" {
		return true
	}
	if len(domain) > 2 && domain[0] == '[' && domain[len(domain)-1] == ']' {
		lit := domain[1 : len(domain)-1]
		lit = strings.TrimPrefix(strings.TrimPrefix(lit, "IPv6:"), "ipv6:")
		_, err := netip.ParseAddr(lit)
		return err == nil
	}
	return validDomain(domain, true)
}

func validEmailUser(u string) bool {
	if len(u) >= 2 && u[0] == '"' && u[len(u)-1] == '"' {
		q := u[1 : len(u)-1]
		for i := 0; i < len(q); i++ {
			c := q[i]
			if c == '\\' {
				i++
				if i >= len(q) || q[i] == '\n' || q[i] == '\r' || q[i] == 0 || q[i] > 0x7f {
					return false
				}
				continue
			}
			if c == 0 || c == '\t' || c == '\n' || c == '\r' || c == '"' || c > 0x7f {
				return false
			}
		}
		return true
	}
	for atom := range strings.SplitSeq(u, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			c := atom[i]
			if !(isAlnum(c) || strings.IndexByte("-!#$%&'*+/=?^_`{}|~", c) >= 0) {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// validDomain is Django's domain check: dot-separated labels of letters,
// digits and inner hyphens (at most 63 characters), then a top-level
// domain of at least two characters not ending with a hyphen.
// Internationalized labels are accepted as their punycode would be.
func validDomain(d string, needTLD bool) bool {
	if d == "" || len(d) > 253 && needTLD {
		return false
	}
	labels := strings.Split(d, ".")
	if needTLD && len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		if l == "" || utf8.RuneCountInString(l) > 63 {
			return false
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r < utf8.RuneSelf && !isAlnum(byte(r)) && r != '-' {
				return false
			}
			if r >= utf8.RuneSelf && !(r > 0xA0) {
				return false
			}
		}
		if i == len(labels)-1 && needTLD && utf8.RuneCountInString(l) < 2 {
			return false
		}
	}
	return true
}

// validURL approximates Django's URLValidator: an http, https, ftp or ftps
// URL with a domain name, localhost or an IP address, an optional port and
// no whitespace.
func validURL(s string) bool {
	if len(s) > 2048 || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "ftp", "ftps":
	default:
		return false
	}
	end := strings.IndexAny(rest, "/?#")
	authority := rest
	if end >= 0 {
		authority = rest[:end]
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	host := authority
	if strings.HasPrefix(host, "[") {
		j := strings.IndexByte(host, ']')
		if j < 0 {
			return false
		}
		if _, err := netip.ParseAddr(host[1:j]); err != nil {
			return false
		}
		return validPort(host[j+1:])
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		if !validPort(host[i:]) {
			return false
		}
		host = host[:i]
	}
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Is4()
	}
	host = strings.TrimSuffix(host, ".")
	if !validDomain(host, true) {
		return false
	}
	tld := host[strings.LastIndexByte(host, '.')+1:]
	if strings.HasPrefix(strings.ToLower(tld), "xn--") {
		return true
	}
	for _, r := range tld {
		if r < utf8.RuneSelf && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != ':' || len(p) < 2 || len(p) > 6 {
		return false
	}
	return validNumber(p[1:])
}
