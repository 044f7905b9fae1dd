package views

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/internal/querystring"
	"github.com/cosworth/cosworth/serializers"
)

// maxFormFields bounds the fields of a form body, as Django's
// DATA_UPLOAD_MAX_NUMBER_FIELDS (1000).
const maxFormFields = 1000

// isForm reports whether the Content-Type ct selects DRF's FormParser or
// MultiPartParser.
func isForm(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	return strings.EqualFold(mt, "application/x-www-form-urlencoded") || strings.EqualFold(mt, "multipart/form-data")
}

// readForm reads a form body (bounded by limit, at most maxFormFields
// fields; file parts are read through and ignored, never stored) and
// writes it into *buf as the JSON object the serializer decodes, the way
// DRF's fields read a QueryDict: the last value of each field, as a
// string (the serializer converts "5" to an integer, "on" to a boolean,
// with DRF's messages for bad values); an empty value is null for a
// nullable field and absent for a field that is not required (DRF's
// Field.get_value on HTML input).
func readForm(r *http.Request, limit int64, buf *[]byte, fields *serializers.Plan) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLargeError{}
	}
	body := http.MaxBytesReader(nil, r.Body, limit)
	var keys []string
	vals := map[string]string{}
	add := func(k, v string) error {
		if _, ok := vals[k]; !ok {
			if len(keys) == maxFormFields {
				return &badBodyError{err: errors.New("too many form fields")}
			}
			keys = append(keys, k)
		}
		vals[k] = v
		return nil
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, &badBodyError{err: err}
	}
	if mt == "multipart/form-data" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, formError(err)
			}
			name := part.FormName()
			if name == "" || part.FileName() != "" {
				if _, err := io.Copy(io.Discard, part); err != nil {
					return nil, formError(err)
				}
				continue
			}
			v, err := io.ReadAll(part)
			if err != nil {
				return nil, formError(err)
			}
			if err := add(name, string(v)); err != nil {
				return nil, err
			}
		}
	} else {
		raw, err := io.ReadAll(body)
		if err != nil {
			return nil, formError(err)
		}
		for _, pair := range strings.Split(string(raw), "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			if err := add(querystring.Unescape(k), querystring.Unescape(v)); err != nil {
				return nil, err
			}
		}
	}
	b := append((*buf)[:0], '{')
	first := true
	for _, k := range keys {
		v := vals[k]
		null := false
		if v == "" && fields != nil {
			if f := fieldByName(fields, k); f != nil {
				if f.Nullable {
					null = true
				} else if !f.Required {
					continue
				}
			}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsonbody.AppendString(b, k)
		b = append(b, ':')
		if null {
			b = append(b, "null"...)
		} else {
			b = jsonbody.AppendString(b, v)
		}
	}
	b = append(b, '}')
	*buf = b
	return b, nil
}

// formError is a 413 for a body beyond the limit, a 400 otherwise.
func formError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return tooLargeError{}
	}
	return &badBodyError{err: err}
}
