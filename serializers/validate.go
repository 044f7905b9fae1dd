package serializers

import (
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/models"
)

// Validator checks the validate rules serializers does not implement
// itself (docs/serializers.md lists the built-in ones). Set one as
// Serializer.Validator; package serializers/validatorv10 adapts
// validator/v10 to it, RegisterValidation included. Without one, a rule
// that is not built in panics when the plan is built, so serializers
// itself never links validator/v10.
type Validator interface {
	// Compile is called once per field when a plan is built, with the
	// field's type (the element type of a pointer) and its rules that are
	// not built in, comma-separated in validator/v10's syntax. It returns
	// an error for an unknown rule or a bad parameter; the plan's
	// construction then panics with it.
	Compile(t reflect.Type, tag string) (Check, error)
}

// Check checks one field's value (of the type given to Compile) against
// its compiled rules. It reports the first rule that fails, as its name
// and parameter ("max", "3"), so the serializer can word DRF's message
// for it; ok is true when every rule passes. It must be safe for
// concurrent use.
type Check func(v any) (rule, param string, ok bool)

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
	opStrEq    // string equal to s
	opAlpha    // ^[a-zA-Z]+$
	opAlnum    // ^[a-zA-Z0-9]+$
	opHex      // ^(0[xX])?[0-9a-fA-F]+$
	opUUID     // 8-4-4-4-12 hex digits, either case
	opIP       // net.ParseIP accepts it
	opIPv4     // ... and it is (or maps) an IPv4 address
	opIPv6     // ... and it does not
	opPrefix   // starts with s
	opSuffix   // ends with s
	opContains // contains s
	opTrue     // always passes (numeric on a number)
	opAny      // one of any passes: validator/v10's "a|b"
)

// rule is one compiled validate rule.
type rule struct {
	op      ruleOp
	n       int     // lengths
	i       int64   // bounds for signed ints
	u       uint64  // bounds for unsigned ints
	f       float64 // bounds for floats
	neg     bool    // the bound is negative (for unsigned fields)
	s       string  // the text of startswith, endswith, contains, eq
	choices []string
	any     []rule // the alternatives of opAny
	msg     string // fixed message; "" when built from the input
}

// Messages, DRF's and Django's where they exist; those other packages
// answer with too are in internal/drfmsg.
const (
	msgInvalidInt    = "A valid integer is required."
	msgInvalidNumber = "A valid number is required."
	msgInvalidBool   = "Must be a valid boolean."
	msgInvalidDate   = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
	msgInvalidTime   = "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
	msgStringTooBig  = "String value too large."
	msgEmail         = "Enter a valid email address."
	msgURL           = "Enter a valid URL."
	msgNumber        = "Enter a number."
	msgInvalid       = "Invalid value."
	msgUUID          = "Must be a valid UUID."               // DRF's UUIDField
	msgIP            = "Enter a valid IPv4 or IPv6 address." // DRF's IPAddressField
	msgIPv4          = "Enter a valid IPv4 address."         // Django's validate_ipv4_address
	msgIPv6          = "Enter a valid IPv6 address."         // Django's validate_ipv6_address
)

// crossField rules need the whole struct: use Serializer.Validate.
func crossField(name string) bool {
	return strings.HasSuffix(name, "field") || strings.HasPrefix(name, "required_") ||
		strings.HasPrefix(name, "excluded_") || strings.HasPrefix(name, "skip_unless") ||
		strings.HasPrefix(name, "fieldcontains") || strings.HasPrefix(name, "fieldexcludes")
}

// compileRules compiles the field's validate rules (parsed in the model
// plan): "required" and "omitempty" are flags, the built-in rules become
// native rules, and the rest is compiled by v (the Serializer's Validator)
// now, so an unknown rule panics at plan time. A rule that is not built in
// panics when v is nil.
func compileRules(where string, f *Field, c *codec, v Validator) {
	c.omitEmpty = f.OmitEmpty
	var rest []string
	for i, r := range f.Rules {
		if r.Name == "dive" || r.Name == "keys" {
			for _, d := range f.Rules[i:] {
				rest = append(rest, d.Tag)
			}
			break
		}
		if r.Any != nil {
			if nr, ok := anyRule(where, r.Any, c); ok {
				c.rules = append(c.rules, nr)
			} else {
				rest = append(rest, r.Tag)
			}
			continue
		}
		if crossField(r.Name) {
			panicf("%s: validate rule %q compares fields; write it as Serializer.Validate", where, r.Tag)
		}
		switch r.Name {
		case "required":
			continue
		case "omitempty":
			rest = append(rest, r.Tag)
			continue
		}
		if nr, ok := nativeRule(where, r, c); ok {
			c.rules = append(c.rules, nr)
			continue
		}
		rest = append(rest, r.Tag)
	}
	if len(rest) == 1 && rest[0] == "omitempty" {
		rest = nil
	}
	if len(rest) == 0 {
		return
	}
	c.varTag = strings.Join(rest, ",")
	if v == nil {
		panicf("%s: validate tag %q: %s not built into serializers; set Validator: validatorv10.New(nil) "+
			"(package github.com/cosworth/cosworth/serializers/validatorv10) on the Serializer of this type "+
			"(for a view, its Serializer field), or use only the built-in rules listed in docs/serializers.md",
			where, f.Validate, ruleList(rest))
	}
	elem := c.typ
	if elem.Kind() == reflect.Pointer {
		elem = elem.Elem()
	}
	check, err := v.Compile(elem, c.varTag)
	if err != nil {
		panicf("%s: validate tag %q: %v", where, c.varTag, err)
	}
	if check == nil {
		panicf("%s: validate tag %q: the Validator's Compile returned a nil Check", where, c.varTag)
	}
	c.extra = check
}

// ruleList names the rules of parts that are not flags, for a message.
func ruleList(parts []string) string {
	var names []string
	for _, p := range parts {
		if p != "omitempty" {
			names = append(names, strconv.Quote(p))
		}
	}
	if len(names) == 1 {
		return "rule " + names[0] + " is"
	}
	return "rules " + strings.Join(names, ", ") + " are"
}

// anyRule compiles validator/v10's "a|b|c" (at least one must pass) when
// every alternative is a native rule. A failure reports the first
// alternative's message.
func anyRule(where string, alts []models.Rule, c *codec) (rule, bool) {
	var subs []rule
	for _, alt := range alts {
		if crossField(alt.Name) || alt.Name == "required" || alt.Name == "omitempty" {
			return rule{}, false
		}
		r, ok := nativeRule(where, alt, c)
		if !ok {
			return rule{}, false
		}
		subs = append(subs, r)
	}
	return rule{op: opAny, any: subs, msg: subs[0].msg}, true
}

// nativeRule compiles a rule the serializer checks itself; each is exactly
// validator/v10's rule of that name (email and url excepted: those are
// Django's validators, as DRF's EmailField and URLField use).
func nativeRule(where string, mr models.Rule, c *codec) (rule, bool) {
	name, param := mr.Name, mr.Param
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
			if name == "eq" {
				return rule{op: opStrEq, s: param, msg: msgInvalid}, true
			}
			n, err := strconv.Atoi(param)
			if err != nil || n < 0 {
				panicf("%s: validate rule %s=%s on a string needs a character count", where, name, param)
			}
			switch name {
			case "max", "lte":
				return rule{op: opMaxLen, n: n, msg: "Ensure this field has no more than " + param + " characters."}, true
			case "min", "gte":
				return rule{op: opMinLen, n: n, msg: "Ensure this field has at least " + param + " characters."}, true
			case "gt":
				return rule{op: opMinLen, n: n + 1, msg: "Ensure this field has more than " + param + " characters."}, true
			case "lt": // lt=0 never passes, as in validator/v10
				return rule{op: opMaxLen, n: n - 1, msg: "Ensure this field has fewer than " + param + " characters."}, true
			default: // len
				return rule{op: opLen, n: n, msg: "Ensure this field has exactly " + param + " characters."}, true
			}
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
				return rule{op: opTrue}, true // validator/v10: always true for numbers
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
	case "alpha", "alphanum", "hexadecimal", "uuid", "ip", "ipv4", "ipv6":
		if !str {
			return rule{}, false
		}
		switch name {
		case "alpha":
			return rule{op: opAlpha, msg: msgInvalid}, true
		case "alphanum":
			return rule{op: opAlnum, msg: msgInvalid}, true
		case "hexadecimal":
			return rule{op: opHex, msg: msgInvalid}, true
		case "uuid":
			return rule{op: opUUID, msg: msgUUID}, true
		case "ip":
			return rule{op: opIP, msg: msgIP}, true
		case "ipv4":
			return rule{op: opIPv4, msg: msgIPv4}, true
		default:
			return rule{op: opIPv6, msg: msgIPv6}, true
		}
	case "startswith", "endswith", "contains":
		if !str {
			return rule{}, false
		}
		needParam()
		switch name {
		case "startswith":
			return rule{op: opPrefix, s: param, msg: msgInvalid}, true
		case "endswith":
			return rule{op: opSuffix, s: param, msg: msgInvalid}, true
		default:
			return rule{op: opContains, s: param, msg: msgInvalid}, true
		}
	case "oneof":
		if !str && c.kind != kindInt && c.kind != kindUint {
			return rule{}, false
		}
		needParam()
		choices := mr.Choices
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

// choiceMsg is DRF's ChoiceField message.
func choiceMsg(s string) string { return `"` + s + `" is not a valid choice.` }

// okString reports whether s passes r.
func (r *rule) okString(s string) bool {
	switch r.op {
	case opMaxLen:
		return utf8.RuneCountInString(s) <= r.n
	case opMinLen:
		return utf8.RuneCountInString(s) >= r.n
	case opLen:
		return utf8.RuneCountInString(s) == r.n
	case opStrEq:
		return s == r.s
	case opEmail:
		return validEmail(s)
	case opURL:
		return validURL(s)
	case opNumeric:
		return validNumeric(s)
	case opNumber:
		return validNumber(s)
	case opAlpha:
		return validAlpha(s)
	case opAlnum:
		return validAlnum(s)
	case opHex:
		return validHex(s)
	case opUUID:
		return validUUID(s)
	case opIP:
		return net.ParseIP(s) != nil
	case opIPv4:
		ip := net.ParseIP(s)
		return ip != nil && ip.To4() != nil
	case opIPv6:
		ip := net.ParseIP(s)
		return ip != nil && ip.To4() == nil
	case opPrefix:
		return strings.HasPrefix(s, r.s)
	case opSuffix:
		return strings.HasSuffix(s, r.s)
	case opContains:
		return strings.Contains(s, r.s)
	case opOneOf:
		return slices.Contains(r.choices, s)
	case opAny:
		for i := range r.any {
			if r.any[i].okString(s) {
				return true
			}
		}
		return false
	}
	return true
}

// message is r's message for the value whose text is s.
func (r *rule) message(s string) string {
	if r.op == opAny {
		return r.any[0].message(s)
	}
	if r.op == opOneOf {
		return choiceMsg(s)
	}
	return r.msg
}

// checkString runs the string rules on s, reporting each failure.
func (c *codec) checkString(s string, add func(string)) {
	if c.omitEmpty && s == "" {
		return
	}
	for i := range c.rules {
		if r := &c.rules[i]; !r.okString(s) {
			add(r.message(s))
		}
	}
	if strings.IndexByte(s, 0) >= 0 {
		add(drfmsg.NullChars)
	}
}

func (r *rule) okInt(v int64) bool {
	switch r.op {
	case opMin:
		return v >= r.i
	case opMax:
		return v <= r.i
	case opGt:
		return v > r.i
	case opLt:
		return v < r.i
	case opEq:
		return v == r.i
	case opOneOf:
		return slices.Contains(r.choices, strconv.FormatInt(v, 10))
	case opAny:
		for i := range r.any {
			if r.any[i].okInt(v) {
				return true
			}
		}
		return false
	}
	return true
}

func (c *codec) checkInt(v int64, add func(string)) {
	if c.omitEmpty && v == 0 {
		return
	}
	for i := range c.rules {
		if r := &c.rules[i]; !r.okInt(v) {
			add(r.message(strconv.FormatInt(v, 10)))
		}
	}
}

func (r *rule) okUint(v uint64) bool {
	switch r.op {
	case opMin:
		return r.neg || v >= r.u
	case opMax:
		return !r.neg && v <= r.u
	case opGt:
		return r.neg || v > r.u
	case opLt:
		return !r.neg && v < r.u
	case opEq:
		return !r.neg && v == r.u
	case opOneOf:
		return slices.Contains(r.choices, strconv.FormatUint(v, 10))
	case opAny:
		for i := range r.any {
			if r.any[i].okUint(v) {
				return true
			}
		}
		return false
	}
	return true
}

func (c *codec) checkUint(v uint64, add func(string)) {
	if c.omitEmpty && v == 0 {
		return
	}
	for i := range c.rules {
		if r := &c.rules[i]; !r.okUint(v) {
			add(r.message(strconv.FormatUint(v, 10)))
		}
	}
}

func (r *rule) okFloat(v float64) bool {
	switch r.op {
	case opMin:
		return v >= r.f
	case opMax:
		return v <= r.f
	case opGt:
		return v > r.f
	case opLt:
		return v < r.f
	case opEq:
		return v == r.f
	case opAny:
		for i := range r.any {
			if r.any[i].okFloat(v) {
				return true
			}
		}
		return false
	}
	return true
}

func (c *codec) checkFloat(v float64, add func(string)) {
	if c.omitEmpty && v == 0 {
		return
	}
	for i := range c.rules {
		if r := &c.rules[i]; !r.okFloat(v) {
			add(r.message(""))
		}
	}
}

// checkVar runs the rules left to the Serializer's Validator on the field
// at fp; the Validator was compiled into the codec (c.extra) with the plan.
func (c *codec) checkVar(fp unsafe.Pointer, add func(string)) {
	if c.extra == nil {
		return
	}
	val := reflect.NewAt(c.typ, fp).Elem()
	if c.ptr {
		if val.IsNil() {
			return
		}
		val = val.Elem()
	}
	if name, param, ok := c.extra(val.Interface()); !ok {
		add(extraMessage(name, param, val.Kind()))
	}
}

// extraMessage is the message for a failed rule that a Validator checked:
// DRF's where DRF has the rule, "Invalid value." otherwise.
func extraMessage(name, param string, k reflect.Kind) string {
	switch name {
	case "uuid", "uuid3", "uuid4", "uuid5", "uuid_rfc4122", "uuid3_rfc4122", "uuid4_rfc4122", "uuid5_rfc4122":
		return msgUUID
	case "ip", "ip_addr":
		return msgIP
	case "ipv4", "ip4_addr":
		return msgIPv4
	case "ipv6", "ip6_addr":
		return msgIPv6
	case "email":
		return msgEmail
	case "url", "http_url", "https_url":
		return msgURL
	case "max", "lte", "min", "gte":
		if param == "" || (k != reflect.Slice && k != reflect.Map && k != reflect.Array) {
			break
		}
		if name == "max" || name == "lte" {
			return "Ensure this field has no more than " + param + " elements." // DRF's ListField
		}
		return "Ensure this field has at least " + param + " elements."
	}
	return msgInvalid
}
