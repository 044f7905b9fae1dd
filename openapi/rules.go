package openapi

import (
	"encoding/json"
	"regexp"
	"strconv"

	"github.com/cosworth/cosworth/models"
)

// Patterns of validator/v10's string rules, as the serializers check them.
const (
	patternNumeric  = `^[-+]?[0-9]+(\.[0-9]+)?$`
	patternNumber   = `^[0-9]+$`
	patternAlpha    = `^[a-zA-Z]+$`
	patternAlphanum = `^[a-zA-Z0-9]+$`
	patternHex      = `^(0[xX])?[0-9a-fA-F]+$`
)

// applyRules adds the JSON Schema form of a field's validate rules (as
// the model plan parsed them) to s, the schema of a field of JSON type typ
// ("string", "integer", "number", "array"...). Rules it cannot express
// (alternatives with "|", cross-field rules, rules after "dive") are left
// out: the schema is then looser than the server, never stricter.
func applyRules(s *Schema, typ string, rules []models.Rule) {
	target := s
	for _, r := range rules {
		if r.Name == "dive" || r.Name == "keys" {
			break
		}
		if r.Any != nil {
			continue
		}
		if r.Name == "omitempty" {
			// The zero value skips every later rule: {const: zero} or the rules.
			var zero any
			switch typ {
			case "string":
				zero = ""
			case "integer", "number":
				zero = 0
			default:
				continue
			}
			target = &Schema{}
			s.AnyOf = []*Schema{{Const: zero}, target}
			continue
		}
		rule(target, typ, r)
	}
	if target != s && isEmptySchema(target) {
		s.AnyOf = nil
	}
}

func isEmptySchema(s *Schema) bool {
	b, _ := json.Marshal(s)
	return string(b) == "{}"
}

// rule applies one validator/v10 rule.
func rule(s *Schema, typ string, r models.Rule) {
	name, param := r.Name, r.Param
	num := typ == "integer" || typ == "number"
	switch name {
	case "max", "lte", "min", "gte", "len", "gt", "lt", "eq":
		if param == "" {
			return // time rules relative to now
		}
		switch {
		case typ == "string":
			n, err := strconv.Atoi(param)
			if err != nil || n < 0 {
				return
			}
			switch name {
			case "max", "lte":
				s.MaxLength = intp(n)
			case "min", "gte":
				s.MinLength = intp(n)
			case "gt":
				s.MinLength = intp(n + 1)
			case "lt":
				if n > 0 {
					s.MaxLength = intp(n - 1)
				}
			case "len":
				s.MinLength, s.MaxLength = intp(n), intp(n)
			case "eq":
				s.Const = param
			}
		case num:
			if _, err := strconv.ParseFloat(param, 64); err != nil {
				return
			}
			v := json.Number(param)
			switch name {
			case "max", "lte":
				s.Maximum = v
			case "min", "gte":
				s.Minimum = v
			case "gt":
				s.ExclusiveMinimum = v
			case "lt":
				s.ExclusiveMaximum = v
			case "len", "eq":
				s.Minimum, s.Maximum = v, v
			}
		case typ == "array" || typ == "object":
			n, err := strconv.Atoi(param)
			if err != nil || n < 0 || typ == "object" {
				return
			}
			switch name {
			case "max", "lte":
				s.MaxItems = intp(n)
			case "min", "gte":
				s.MinItems = intp(n)
			case "gt":
				s.MinItems = intp(n + 1)
			case "len":
				s.MinItems, s.MaxItems = intp(n), intp(n)
			}
		}
	case "oneof":
		choices := r.Choices
		if len(choices) == 0 {
			return
		}
		enum := make([]any, 0, len(choices))
		for _, c := range choices {
			switch {
			case typ == "string":
				enum = append(enum, c)
			case num:
				if _, err := strconv.ParseFloat(c, 64); err != nil {
					return
				}
				enum = append(enum, json.Number(c))
			default:
				return
			}
		}
		s.Enum = enum
	case "email":
		s.Format = "email"
	case "url", "uri", "http_url":
		s.Format = "uri"
	case "uuid", "uuid4", "uuid_rfc4122", "uuid4_rfc4122":
		s.Format = "uuid"
	case "ipv4":
		s.Format = "ipv4"
	case "ipv6":
		s.Format = "ipv6"
	case "hostname", "hostname_rfc1123":
		s.Format = "hostname"
	case "datetime":
		switch param {
		case "2006-01-02":
			s.Format = "date"
		case "15:04:05":
			s.Format = "time"
		case "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00":
			s.Format = "date-time"
		}
	case "numeric":
		if typ == "string" {
			addPattern(s, patternNumeric)
		}
	case "number":
		if typ == "string" {
			addPattern(s, patternNumber)
		}
	case "alpha":
		addPattern(s, patternAlpha)
	case "alphanum":
		addPattern(s, patternAlphanum)
	case "hexadecimal":
		addPattern(s, patternHex)
	case "startswith":
		addPattern(s, "^"+regexp.QuoteMeta(param))
	case "endswith":
		addPattern(s, regexp.QuoteMeta(param)+"$")
	case "contains":
		addPattern(s, regexp.QuoteMeta(param))
	}
}

// addPattern sets s's pattern, or, when it has one, adds an allOf member
// with the new one (a schema holds one pattern).
func addPattern(s *Schema, p string) {
	if s.Pattern == "" {
		s.Pattern = p
		return
	}
	s.AllOf = append(s.AllOf, &Schema{Pattern: p})
}
