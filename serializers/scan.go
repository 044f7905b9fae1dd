package serializers

import (
	"strconv"
	"unicode/utf8"
)

// The JSON scanner: a bounded, allocation-free validator that also reports
// where the values of an object's members are. Its error reasons are
// Python's (json.decoder), as DRF's JSONParser reports them, with positions
// but never any of the input.

// value is one scanned JSON value: its kind and its bytes in the body.
type value struct {
	kind  byte // 's' string, 'n' number, 't' true, 'f' false, '0' null, '[' array, '{' object
	float bool // a number with a fraction or an exponent
	esc   bool // a string with escapes
	raw   []byte
}

type scanner struct {
	data  []byte
	pos   int
	depth int
	err   *ParseError
}

const (
	errExpectValue = "Expecting value"
	errExpectName  = "Expecting property name enclosed in double quotes"
	errExpectColon = "Expecting ':' delimiter"
	errExpectComma = "Expecting ',' delimiter"
	errExtraData   = "Extra data"
	errUntermStr   = "Unterminated string starting at"
	errControl     = "Invalid control character at"
	errEscape      = "Invalid \\escape"
	errUEscape     = "Invalid \\uXXXX escape"
	errTooDeep     = "Maximum nesting depth exceeded"
	errBOM         = "Unexpected UTF-8 BOM (decode using utf-8-sig)"
)

// fail records the first error, at byte offset pos.
func (s *scanner) fail(msg string, pos int) {
	if s.err == nil {
		s.err = &ParseError{Reason: pythonPos(msg, s.data, pos)}
	}
}

// pythonPos formats msg as Python's JSONDecodeError does:
// "msg: line L column C (char N)", N counted in characters.
func pythonPos(msg string, data []byte, pos int) string {
	if pos > len(data) {
		pos = len(data)
	}
	line, lineStart := 1, 0
	for i := 0; i < pos; i++ {
		if data[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	char := utf8.RuneCount(data[:pos])
	col := utf8.RuneCount(data[lineStart:pos]) + 1
	if line == 1 {
		col = char + 1
	}
	b := make([]byte, 0, len(msg)+40)
	b = append(b, msg...)
	b = append(b, ": line "...)
	b = strconv.AppendInt(b, int64(line), 10)
	b = append(b, " column "...)
	b = strconv.AppendInt(b, int64(col), 10)
	b = append(b, " (char "...)
	b = strconv.AppendInt(b, int64(char), 10)
	b = append(b, ')')
	return string(b)
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans one value at s.pos (whitespace already skipped). It returns
// false after recording an error.
func (s *scanner) value(v *value) bool {
	if s.pos >= len(s.data) {
		s.fail(errExpectValue, s.pos)
		return false
	}
	start := s.pos
	switch c := s.data[s.pos]; c {
	case '"':
		v.kind = 's'
		if !s.str(v) {
			return false
		}
		return true
	case '{', '[':
		s.depth++
		if s.depth > MaxDepth {
			s.err = &ParseError{Reason: errTooDeep}
			return false
		}
		var ok bool
		if c == '{' {
			ok = s.object()
		} else {
			ok = s.array()
		}
		s.depth--
		v.kind = c
		v.raw = s.data[start:s.pos]
		return ok
	case 't':
		return s.literal(v, "true", 't')
	case 'f':
		return s.literal(v, "false", 'f')
	case 'n':
		return s.literal(v, "null", '0')
	case 'N':
		return s.constant(s.pos, "NaN")
	case 'I':
		return s.constant(s.pos, "Infinity")
	case '-':
		if s.pos+1 < len(s.data) && s.data[s.pos+1] == 'I' {
			return s.constant(s.pos+1, "Infinity")
		}
		return s.number(v)
	default:
		if c >= '0' && c <= '9' {
			return s.number(v)
		}
		s.fail(errExpectValue, s.pos)
		return false
	}
}

func (s *scanner) literal(v *value, lit string, kind byte) bool {
	if len(s.data)-s.pos >= len(lit) && string(s.data[s.pos:s.pos+len(lit)]) == lit {
		v.kind = kind
		v.raw = s.data[s.pos : s.pos+len(lit)]
		s.pos += len(lit)
		return true
	}
	s.fail(errExpectValue, s.pos)
	return false
}

// constant handles NaN, Infinity and -Infinity, which Python parses and
// DRF's strict JSON parsing refuses. It always returns false.
func (s *scanner) constant(at int, lit string) bool {
	if len(s.data)-at >= len(lit) && string(s.data[at:at+len(lit)]) == lit {
		if s.err == nil {
			name := s.data[s.pos : at+len(lit)]
			s.err = &ParseError{Reason: "Out of range float values are not JSON compliant: '" + string(name) + "'"}
		}
		return false
	}
	s.fail(errExpectValue, s.pos)
	return false
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? as Python's
// scanner does: a partial match ends the number.
func (s *scanner) number(v *value) bool {
	d := s.data
	start := s.pos
	i := s.pos
	if d[i] == '-' {
		i++
	}
	if i >= len(d) || d[i] < '0' || d[i] > '9' {
		s.fail(errExpectValue, start)
		return false
	}
	if d[i] == '0' {
		i++
	} else {
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	v.float = false
	if i+1 < len(d) && d[i] == '.' && d[i+1] >= '0' && d[i+1] <= '9' {
		i += 2
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		v.float = true
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		j := i + 1
		if j < len(d) && (d[j] == '+' || d[j] == '-') {
			j++
		}
		if j < len(d) && d[j] >= '0' && d[j] <= '9' {
			for j < len(d) && d[j] >= '0' && d[j] <= '9' {
				j++
			}
			i = j
			v.float = true
		}
	}
	v.kind = 'n'
	v.raw = d[start:i]
	s.pos = i
	return true
}

// str scans a string; v.raw is the string with its quotes.
func (s *scanner) str(v *value) bool {
	d := s.data
	start := s.pos
	i := s.pos + 1
	v.esc = false
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			v.raw = d[start : i+1]
			s.pos = i + 1
			return true
		case c == '\\':
			v.esc = true
			if i+1 >= len(d) {
				s.fail(errUntermStr, start)
				return false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex4(d[i+2:i+6]) {
					s.fail(errUEscape, i+1)
					return false
				}
				i += 6
			default:
				s.fail(errEscape, i)
				return false
			}
		case c < 0x20:
			s.fail(errControl, i)
			return false
		default:
			i++
		}
	}
	s.fail(errUntermStr, start)
	return false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// object scans an object at s.pos ('{').
func (s *scanner) object() bool {
	s.pos++ // '{'
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return true
	}
	var key, val value
	for {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			s.fail(errExpectName, s.pos)
			return false
		}
		key.kind = 's'
		if !s.str(&key) {
			return false
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			s.fail(errExpectColon, s.pos)
			return false
		}
		s.pos++
		s.ws()
		if !s.value(&val) {
			return false
		}
		s.ws()
		if s.pos < len(s.data) {
			switch s.data[s.pos] {
			case '}':
				s.pos++
				return true
			case ',':
				s.pos++
				s.ws()
				continue
			}
		}
		s.fail(errExpectComma, s.pos)
		return false
	}
}

func (s *scanner) array() bool {
	s.pos++ // '['
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return true
	}
	var val value
	for {
		if !s.value(&val) {
			return false
		}
		s.ws()
		if s.pos < len(s.data) {
			switch s.data[s.pos] {
			case ']':
				s.pos++
				return true
			case ',':
				s.pos++
				s.ws()
				continue
			}
		}
		s.fail(errExpectComma, s.pos)
		return false
	}
}

// unquote decodes the content of a JSON string (between its quotes:
// escapes, surrogate pairs; a lone surrogate becomes U+FFFD) appending to
// dst. It returns the first lone surrogate seen, or 0.
func unquote(dst, raw []byte) ([]byte, rune) {
	var lone rune
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			dst = append(dst, raw[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2 : i+6])
			i += 6
			if r >= 0xD800 && r < 0xDC00 && i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
				if r2 := hex4(raw[i+2 : i+6]); r2 >= 0xDC00 && r2 < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 6
				}
			}
			if r >= 0xD800 && r < 0xE000 {
				if lone == 0 {
					lone = r
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		}
		i += 2
	}
	return dst, lone
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
