package views

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/cosworth/cosworth/internal/formbody"
	"github.com/cosworth/cosworth/serializers"
)

// readBody reads r's JSON body into *buf (a pooled buffer), bounded by
// limit, and returns it. As DRF does, an empty body is the empty object
// whatever its Content-Type; a non-empty one must be application/json
// (parameters such as charset allowed), a form
// (application/x-www-form-urlencoded or multipart/form-data, read by
// readForm as the JSON object of its fields, typed by fields when not nil),
// else 415. A body beyond limit is a 413, refused from Content-Length
// before reading when possible.
func readBody(r *http.Request, limit int64, buf *[]byte, fields *serializers.Plan) ([]byte, error) {
	b := (*buf)[:0]
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		*buf = append(b, '{', '}')
		return *buf, nil
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		if formbody.Is(ct) {
			return readForm(r, limit, buf, fields)
		}
		return nil, &unsupportedMediaTypeError{contentType: ct}
	}
	if r.ContentLength > limit {
		return nil, tooLargeError{}
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		window := b[len(b):cap(b)]
		if room := limit + 1 - int64(len(b)); int64(len(window)) > room {
			window = window[:room]
		}
		n, err := r.Body.Read(window)
		b = b[:len(b)+n]
		*buf = b
		if int64(len(b)) > limit {
			return nil, tooLargeError{}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return nil, tooLargeError{}
			}
			return nil, &badBodyError{err: err}
		}
	}
	if len(b) == 0 {
		*buf = append(b, '{', '}')
	}
	return *buf, nil
}

// isJSON reports whether the Content-Type ct selects DRF's JSONParser:
// application/json with any parameters, or a wildcard that matches it.
func isJSON(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	return strings.EqualFold(ct, "application/json") || ct == "application/*" || ct == "*/*"
}
