package authentication

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
)

// MaxBodyBytes bounds the JSON bodies the credential handlers (obtain,
// refresh, verify, token) read: 1 MiB, Cosworth's default body limit.
const MaxBodyBytes = 1 << 20

// DRF's messages for the request bodies of the credential handlers.
const (
	msgRequired = "This field is required."
	msgBlank    = "This field may not be blank."
	msgNull     = "This field may not be null."
	msgNotStr   = "Not a valid string."
)

// credentialField is one string field a credential handler reads, with
// DRF CharField's rules: required, not null, not blank, strings and
// numbers accepted (numbers as their text), surrounding white space
// trimmed unless keepSpace.
type credentialField struct {
	name      string
	keepSpace bool
}

// readFields reads r's JSON object body and returns the values of fields
// in order, or an error answered with DRF's status and body: 415 for a
// non-JSON Content-Type, 413 beyond MaxBodyBytes, 400 for malformed JSON
// or a non-object, and 400 {"field": ["..."]} for field errors.
func readFields(r *http.Request, fields ...credentialField) ([]string, error) {
	body, err := readJSON(r)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return nil, &fieldErrors{fields: []fieldError{{"non_field_errors", "Invalid data. Expected a dictionary, but got " + pyType(ute.Value) + "."}}}
		}
		return nil, &httpError{status: http.StatusBadRequest, detail: "JSON parse error - " + parseReason(err)}
	}
	if obj == nil { // the body was null
		return nil, &fieldErrors{fields: []fieldError{{"non_field_errors", "No data provided"}}}
	}
	vals := make([]string, len(fields))
	var fe fieldErrors
	for i, f := range fields {
		raw, ok := obj[f.name]
		if !ok {
			fe.add(f.name, msgRequired)
			continue
		}
		v, msg := charField(raw, f.keepSpace)
		if msg != "" {
			fe.add(f.name, msg)
			continue
		}
		vals[i] = v
	}
	if len(fe.fields) > 0 {
		return nil, &fe
	}
	return vals, nil
}

// charField applies DRF CharField's to_internal_value and blank rules.
func charField(raw json.RawMessage, keepSpace bool) (string, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", msgRequired
	}
	var s string
	switch raw[0] {
	case 'n':
		return "", msgNull
	case '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", msgNotStr
		}
	case 't', 'f', '{', '[':
		return "", msgNotStr
	default: // a number: DRF takes str(value)
		s = string(raw)
	}
	if !keepSpace {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		return "", msgBlank
	}
	return s, ""
}

// readJSON reads r's body, bounded by MaxBodyBytes, after checking its
// Content-Type as DRF's parser negotiation does. An empty body is {}.
func readJSON(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return []byte("{}"), nil
	}
	ct := r.Header.Get("Content-Type")
	if !isJSON(ct) {
		return nil, &httpError{status: http.StatusUnsupportedMediaType, detail: `Unsupported media type "` + ct + `" in request.`}
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, &httpError{status: http.StatusRequestEntityTooLarge, detail: drfmsg.TooLarge}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, &httpError{status: http.StatusRequestEntityTooLarge, detail: drfmsg.TooLarge}
		}
		return nil, &httpError{status: http.StatusBadRequest, detail: "JSON parse error - could not read the request body"}
	}
	if len(b) > MaxBodyBytes {
		return nil, &httpError{status: http.StatusRequestEntityTooLarge, detail: drfmsg.TooLarge}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("{}"), nil
	}
	return b, nil
}

// isJSON reports whether the Content-Type ct selects DRF's JSONParser.
func isJSON(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	return strings.EqualFold(ct, "application/json") || ct == "application/*" || ct == "*/*"
}

// parseReason describes a JSON syntax error without echoing the input.
func parseReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "invalid JSON at byte " + itoa(se.Offset)
	}
	return "invalid JSON"
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// pyType names a JSON value type as DRF's message does.
func pyType(v string) string {
	switch v {
	case "array":
		return "list"
	case "string":
		return "str"
	case "number":
		return "int"
	case "bool":
		return "bool"
	}
	return v
}

// httpError is a fixed-message error of a credential handler.
type httpError struct {
	status int
	detail string
}

func (e *httpError) Error() string   { return e.detail }
func (e *httpError) StatusCode() int { return e.status }

type fieldError struct{ field, msg string }

// fieldErrors is DRF's 400 {"field": ["message"], ...}.
type fieldErrors struct{ fields []fieldError }

func (e *fieldErrors) add(field, msg string) { e.fields = append(e.fields, fieldError{field, msg}) }

func (e *fieldErrors) Error() string {
	if len(e.fields) == 0 {
		return "invalid input"
	}
	return e.fields[0].field + ": " + e.fields[0].msg
}

func (e *fieldErrors) StatusCode() int { return http.StatusBadRequest }

// AppendJSON appends the body, one message per field.
func (e *fieldErrors) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i, f := range e.fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonbody.AppendString(dst, f.field)
		dst = append(dst, ":["...)
		dst = jsonbody.AppendString(dst, f.msg)
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// writeJSON answers 200 with the string members of kv (name, value, ...).
func writeJSON(w http.ResponseWriter, kv ...string) {
	b := jsonbody.GetBuffer()
	*b = append(*b, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			*b = append(*b, ',')
		}
		*b = jsonbody.AppendString(*b, kv[i])
		*b = append(*b, ':')
		*b = jsonbody.AppendString(*b, kv[i+1])
	}
	*b = append(*b, '}')
	jsonbody.Write(w, http.StatusOK, *b)
	jsonbody.PutBuffer(b)
}
