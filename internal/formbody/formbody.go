// Package formbody reads form request bodies
// (application/x-www-form-urlencoded and multipart/form-data) as DRF's
// FormParser and MultiPartParser do, bounded, for the generic views and
// the credential handlers: the fields in order of first appearance with
// their last value (QueryDict.get), file parts read through and ignored
// (never stored).
package formbody

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/cosworth/cosworth/internal/querystring"
)

// MaxFields bounds the fields of a form body, as Django's
// DATA_UPLOAD_MAX_NUMBER_FIELDS (1000).
const MaxFields = 1000

// ErrTooLarge is returned for a body beyond the limit.
var ErrTooLarge = errors.New("formbody: body too large")

// ErrMalformed is returned for a body that is not a valid form or has
// more than MaxFields fields.
var ErrMalformed = errors.New("formbody: malformed form")

// Is reports whether the Content-Type ct is a form DRF's default parsers
// read.
func Is(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	return strings.EqualFold(mt, "application/x-www-form-urlencoded") || strings.EqualFold(mt, "multipart/form-data")
}

// Form is a form body: its field names in order of first appearance and
// the last value of each.
type Form struct {
	Keys   []string
	Values map[string]string
}

func (f *Form) add(k, v string) error {
	if _, ok := f.Values[k]; !ok {
		if len(f.Keys) == MaxFields {
			return ErrMalformed
		}
		f.Keys = append(f.Keys, k)
	}
	f.Values[k] = v
	return nil
}

// Read reads r's form body, at most limit bytes.
func Read(r *http.Request, limit int64) (*Form, error) {
	if r.ContentLength > limit {
		return nil, ErrTooLarge
	}
	f := &Form{Values: map[string]string{}}
	body := http.MaxBytesReader(nil, r.Body, limit)
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, ErrMalformed
	}
	if strings.EqualFold(mt, "multipart/form-data") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return f, nil
			}
			if err != nil {
				return nil, readError(err)
			}
			name := part.FormName()
			if name == "" || part.FileName() != "" {
				if _, err := io.Copy(io.Discard, part); err != nil {
					return nil, readError(err)
				}
				continue
			}
			v, err := io.ReadAll(part)
			if err != nil {
				return nil, readError(err)
			}
			if err := f.add(name, string(v)); err != nil {
				return nil, err
			}
		}
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, readError(err)
	}
	for _, pair := range strings.Split(string(raw), "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if err := f.add(querystring.Unescape(k), querystring.Unescape(v)); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func readError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return ErrTooLarge
	}
	return ErrMalformed
}
