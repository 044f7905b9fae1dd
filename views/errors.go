package views

import (
	"database/sql"
	"errors"
	"net/http"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/httperror"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/models"
)

// WriteError answers err the way the generic views do, for handlers of
// an APIView or any other handler that wants DRF's error responses:
//
//   - *serializers.ValidationError: 400 {"field": ["message", ...]}
//   - *serializers.ParseError: 400 {"detail": "JSON parse error - ..."}
//   - *filters.FieldError: 400 {"field": ["message"]}
//   - errors wrapping models.ErrNotFound (and sql.ErrNoRows): 404 {"detail": "Not found."}
//   - authentication, permission and throttling errors: 401, 403, 429
//     with DRF's bodies and headers
//   - errors wrapping models.ErrUnavailable, and deadlines: 503
//   - a request the client canceled: logged, not answered
//   - anything else: 500 {"detail": "A server error occurred."}, with the
//     cause logged and never sent.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if err == sql.ErrNoRows || err == models.ErrNotFound {
		// The common 404 (a missing row, a lookup value that does not
		// parse), answered as Classify and Write would, without them.
		jsonbody.Detail(w, http.StatusNotFound, drfmsg.NotFound)
		return
	}
	if !plainClientError(err) {
		err = models.Classify(err)
	}
	httperror.Write(w, r, err)
}

// plainClientError reports whether err is itself a 4xx response error
// that wraps nothing (a validation error, a permission denial, a 405):
// models.Classify looks for database causes and would only spend
// allocations on it.
func plainClientError(err error) bool {
	e, ok := err.(httperror.Error)
	if !ok || e.StatusCode() >= 500 {
		return false
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return u.Unwrap() == nil
	case interface{ Unwrap() []error }:
		return len(u.Unwrap()) == 0
	}
	return true
}

// methodNotAllowed is DRF's MethodNotAllowed: 405 with the method named.
// The Allow header is already on every response of a view.
type methodNotAllowed struct{ method string }

func (e *methodNotAllowed) Error() string   { return `Method "` + e.method + `" not allowed.` }
func (e *methodNotAllowed) StatusCode() int { return http.StatusMethodNotAllowed }

// unsupportedMediaType is DRF's UnsupportedMediaType: 415 naming the
// request's Content-Type.
type unsupportedMediaType struct{ contentType string }

func (e *unsupportedMediaType) Error() string {
	return `Unsupported media type "` + e.contentType + `" in request.`
}
func (e *unsupportedMediaType) StatusCode() int { return http.StatusUnsupportedMediaType }

// tooLarge is a request body beyond the view's MaxBodyBytes: 413.
type tooLarge struct{}

func (tooLarge) Error() string   { return drfmsg.TooLarge }
func (tooLarge) StatusCode() int { return http.StatusRequestEntityTooLarge }

// badBody is a request body that could not be read (the client went
// away or sent a broken chunked body): DRF's ParseError default, 400.
type badBody struct{ err error }

func (e *badBody) Error() string   { return "Malformed request." }
func (e *badBody) Unwrap() error   { return e.err }
func (e *badBody) StatusCode() int { return http.StatusBadRequest }

// unavailableError is a dependency (a throttle's store) that could not
// answer: 503 with DRF's ServiceUnavailable message; the cause is logged.
type unavailableError struct{ err error }

func unavailable(err error) error {
	var re httperror.Error
	if errors.As(err, &re) {
		return err
	}
	return &unavailableError{err: err}
}

func (e *unavailableError) Error() string            { return drfmsg.Unavailable }
func (e *unavailableError) Unwrap() error            { return e.err }
func (e *unavailableError) StatusCode() int          { return http.StatusServiceUnavailable }
func (e *unavailableError) SetHeaders(h http.Header) { h.Set("Retry-After", "1") }
