package serializers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/cosworth/cosworth/models"
)

// ListError is the error of a list body (a bulk create), DRF's
// ListSerializer errors: one error object per item, {} for the valid
// ones, answered 400:
//
//	[{}, {"title": ["This field is required."]}]
type ListError struct {
	// Items holds each item's error, nil for a valid item.
	Items []*models.ValidationError
}

// Error summarises the first item's problem: "[1] title: message".
func (e *ListError) Error() string {
	for i, it := range e.Items {
		if it != nil {
			return "[" + strconv.Itoa(i) + "] " + it.Error()
		}
	}
	return "invalid input"
}

// StatusCode is 400.
func (e *ListError) StatusCode() int { return http.StatusBadRequest }

// AppendJSON appends DRF's body: a JSON array of error objects.
func (e *ListError) AppendJSON(dst []byte) []byte {
	dst = append(dst, '[')
	for i, it := range e.Items {
		if i > 0 {
			dst = append(dst, ',')
		}
		if it == nil {
			dst = append(dst, '{', '}')
			continue
		}
		dst = it.AppendJSON(dst)
	}
	return append(dst, ']')
}

// DecodeList decodes the JSON array in body into new objects, as DRF's
// ListSerializer (many=True) does for a create: every item is decoded and
// validated as Decode does with Create, and [] is no object (DRF's
// allow_empty). It returns a *ParseError for malformed JSON, a
// *models.ValidationError under non_field_errors when body is not an
// array or holds more than max items ("Ensure this field has no more than
// N elements.", DRF's max_length message), and a *ListError with every
// invalid item's errors.
func (s *Serializer[T]) DecodeList(ctx context.Context, body []byte, max int) ([]T, error) {
	items, err := splitArray(body)
	if err != nil {
		return nil, err
	}
	if len(items) > max {
		return nil, &models.ValidationError{Fields: []models.FieldError{{Field: models.NonFieldErrors,
			Messages: []string{"Ensure this field has no more than " + strconv.Itoa(max) + " elements."}}}}
	}
	out := make([]T, len(items))
	var le *ListError
	for i, item := range items {
		err := s.Decode(ctx, item, &out[i], Create)
		if err == nil {
			continue
		}
		ve, ok := err.(*models.ValidationError)
		if !ok {
			return nil, err // a hook's or Validate's error the view answers itself
		}
		if le == nil {
			le = &ListError{Items: make([]*models.ValidationError, len(items))}
		}
		le.Items[i] = ve
	}
	if le != nil {
		return nil, le
	}
	return out, nil
}

// splitArray checks body (UTF-8, JSON syntax, depth) and returns the
// bytes of each item of its top-level array. A body that is JSON but no
// array is DRF's "Expected a list of items" error.
func splitArray(body []byte) ([][]byte, error) {
	if err := checkUTF8(body); err != nil {
		return nil, err
	}
	if len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF {
		return nil, &ParseError{Reason: errBOM + ": line 1 column 1 (char 0)"}
	}
	sc := scanner{data: body}
	sc.ws()
	if sc.pos >= len(body) || body[sc.pos] != '[' {
		var v value
		if sc.value(&v) {
			sc.ws()
			if sc.pos != len(body) {
				sc.fail(errExtraData, sc.pos)
			}
		}
		if sc.err != nil {
			return nil, sc.err
		}
		return nil, &models.ValidationError{Fields: []models.FieldError{{Field: models.NonFieldErrors,
			Messages: []string{`Expected a list of items but got type "` + pythonType(v.kind, v.float) + `".`}}}}
	}
	sc.depth = 1
	sc.pos++
	sc.ws()
	var items [][]byte
	if sc.pos < len(body) && body[sc.pos] == ']' {
		sc.pos++
	} else {
	loop:
		for {
			start := sc.pos
			var v value
			if !sc.value(&v) {
				break
			}
			items = append(items, body[start:sc.pos])
			sc.ws()
			if sc.pos < len(body) {
				switch body[sc.pos] {
				case ']':
					sc.pos++
					break loop
				case ',':
					sc.pos++
					sc.ws()
					continue
				}
			}
			sc.fail(errExpectComma, sc.pos)
			break
		}
	}
	if sc.err == nil {
		sc.ws()
		if sc.pos != len(body) {
			sc.fail(errExtraData, sc.pos)
		}
	}
	if sc.err != nil {
		return nil, sc.err
	}
	return items, nil
}

// IsList reports whether body holds a JSON array: its first byte after
// whitespace is '['.
func IsList(body []byte) bool {
	for _, c := range body {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == '['
	}
	return false
}
