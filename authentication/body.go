package authentication

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/formbody"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/models"
)

// MaxBodyBytes bounds the JSON bodies the credential handlers (obtain,
// refresh, verify, token) read: 1 MiB, Cosworth's default body limit.
const MaxBodyBytes = 1 << 20

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
			return nil, nonFieldError(drfmsg.NotADict + pyType(ute.Value) + ".")
		}
		return nil, &requestError{status: http.StatusBadRequest, detail: drfmsg.ParseErrorPrefix + parseReason(err)}
	}
	if obj == nil { // the body was null
		return nil, nonFieldError(drfmsg.NoData)
	}
	vals := make([]string, len(fields))
	var fe models.ValidationError
	for i, f := range fields {
		raw, ok := obj[f.name]
		if !ok {
			fe.Add(f.name, drfmsg.Required)
			continue
		}
		v, msg := charField(raw, f.keepSpace)
		if msg != "" {
			fe.Add(f.name, msg)
			continue
		}
		vals[i] = v
	}
	if len(fe.Fields) > 0 {
		return nil, &fe
	}
	return vals, nil
}

// charField applies DRF CharField's to_internal_value and blank rules.
func charField(raw json.RawMessage, keepSpace bool) (string, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", drfmsg.Required
	}
	var s string
	switch raw[0] {
	case 'n':
		return "", drfmsg.Null
	case '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", drfmsg.InvalidString
		}
	case 't', 'f', '{', '[':
		return "", drfmsg.InvalidString
	default: // a number: DRF takes str(value)
		s = string(raw)
	}
	if !keepSpace {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		return "", drfmsg.Blank
	}
	return s, ""
}

// readJSON reads r's body, bounded by MaxBodyBytes, after checking its
// Content-Type as DRF's parser negotiation does (JSON, or a form read as
// the JSON object of its fields' last values, as DRF's FormParser and
// MultiPartParser give the serializer). An empty body is {}.
func readJSON(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return []byte("{}"), nil
	}
	ct := r.Header.Get("Content-Type")
	if formbody.Is(ct) {
		return readForm(r)
	}
	if !isJSON(ct) {
		return nil, &requestError{status: http.StatusUnsupportedMediaType, detail: drfmsg.UnsupportedMediaType(ct)}
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, &requestError{status: http.StatusRequestEntityTooLarge, detail: drfmsg.TooLarge}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, &requestError{status: http.StatusRequestEntityTooLarge, detail: drfmsg.TooLarge}
		}
		return nil, &requestError{status: http.StatusBadRequest, detail: drfmsg.ParseErrorPrefix + "could not read the request body"}
	}
	if len(b) > MaxBodyBytes {
		return nil, &requestError{status: http.StatusRequestEntityTooLarge, detail: drfmsg.TooLarge}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("{}"), nil
	}
	return b, nil
}

// readForm reads a form body as the JSON object of its fields, each the
// string of its last value.
func readForm(r *http.Request) ([]byte, error) {
	f, err := formbody.Read(r, MaxBodyBytes)
	if err != nil {
		if errors.Is(err, formbody.ErrTooLarge) {
			return nil, &requestError{status: http.StatusRequestEntityTooLarge, detail: drfmsg.TooLarge}
		}
		return nil, &requestError{status: http.StatusBadRequest, detail: drfmsg.MalformedRequest}
	}
	b := []byte{'{'}
	for i, k := range f.Keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonbody.AppendString(b, k)
		b = append(b, ':')
		b = jsonbody.AppendString(b, f.Values[k])
	}
	return append(b, '}'), nil
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

// requestError is a credential handler's refusal of a request body with a
// fixed message: 400, 413 or 415 {"detail": detail}.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string   { return e.detail }
func (e *requestError) StatusCode() int { return e.status }

// nonFieldError is a 400 {"non_field_errors": [msg]}.
func nonFieldError(msg string) *models.ValidationError {
	return &models.ValidationError{Fields: []models.FieldError{{Field: models.NonFieldErrors, Messages: []string{msg}}}}
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
