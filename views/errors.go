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

// Error is an error that chooses its own HTTP response: WriteError answers
// it with StatusCode() and the body {"detail": Error()}, or the body of
// ErrorBody and the headers of ErrorHeaders when the error implements
// them. Error() is sent to the client, so it must hold only public text;
// a cause for the logs goes behind Unwrap (a status of 500 or more logs
// the innermost cause).
//
// Implement Error on purpose, on a pointer receiver, for an error that a
// Filter, Paginator, Queryset, Perform hook, Serializer.Validate or APIView
// handler of yours returns and that should not be a 500. Cosworth's own
// errors implement it: *models.ValidationError (400, from serializers,
// filters and the credential handlers), *serializers.ParseError (400),
// *pagination.InvalidPageError (404), *authentication.FailedError (401/403), *permissions.DeniedError
// (401/403), *throttling.ThrottledError (429),
// *authentication.UnavailableError and *throttling.UnavailableError (503).
// WriteError finds an Error anywhere in the chain of a wrapped error.
type Error interface {
	error
	// StatusCode is the HTTP status of the response.
	StatusCode() int
}

// ErrorBody is implemented by an Error whose body is not
// {"detail": Error()}.
type ErrorBody interface {
	// AppendJSON appends the complete JSON body to dst and returns the
	// extended slice; dst is a pooled buffer, so the body costs no
	// allocation of its own.
	AppendJSON(dst []byte) []byte
}

// ErrorHeaders is implemented by an Error that sets response headers,
// such as WWW-Authenticate or Retry-After.
type ErrorHeaders interface {
	// SetHeaders sets the headers on h before the status is written.
	SetHeaders(h http.Header)
}

// WriteError answers err the way the generic views do, for handlers of
// an APIView or any other handler that wants DRF's error responses. It is
// the one place where an error becomes a response:
//
//   - an Error anywhere in err's chain: its StatusCode, its ErrorBody or
//     {"detail": Error()}, and its ErrorHeaders. Among them:
//     *models.ValidationError: 400 {"field": ["message", ...]}; *serializers.ParseError: 400
//     {"detail": "JSON parse error - ..."}; authentication, permission and
//     throttling errors: 401, 403, 429 with DRF's bodies and headers
//   - errors wrapping models.ErrNotFound (and sql.ErrNoRows): 404 {"detail": "Not found."}
//   - errors wrapping models.ErrUnavailable, and deadlines: 503 with Retry-After
//   - a request the client canceled: logged, not answered
//   - anything else: 500 {"detail": "A server error occurred."}, with the
//     cause logged and never sent.
//
// Database errors go through models.Classify first, so a constraint
// violation a serializer names becomes its 400.
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
	e, ok := err.(Error)
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

// methodNotAllowedError is DRF's MethodNotAllowed: 405 with the method
// named. The Allow header is already on every response of a view.
type methodNotAllowedError struct{ method string }

func (e *methodNotAllowedError) Error() string   { return drfmsg.MethodNotAllowed(e.method) }
func (e *methodNotAllowedError) StatusCode() int { return http.StatusMethodNotAllowed }

// unsupportedMediaTypeError is DRF's UnsupportedMediaType: 415 naming the
// request's Content-Type.
type unsupportedMediaTypeError struct{ contentType string }

func (e *unsupportedMediaTypeError) Error() string {
	return drfmsg.UnsupportedMediaType(e.contentType)
}
func (e *unsupportedMediaTypeError) StatusCode() int { return http.StatusUnsupportedMediaType }

// tooLargeError is a request body beyond the view's MaxBodyBytes: 413.
type tooLargeError struct{}

func (tooLargeError) Error() string   { return drfmsg.TooLarge }
func (tooLargeError) StatusCode() int { return http.StatusRequestEntityTooLarge }

// badBodyError is a request body that could not be read (the client went
// away or sent a broken chunked body): DRF's ParseError default, 400.
type badBodyError struct{ err error }

func (e *badBodyError) Error() string   { return drfmsg.MalformedRequest }
func (e *badBodyError) Unwrap() error   { return e.err }
func (e *badBodyError) StatusCode() int { return http.StatusBadRequest }

// unavailableError is a dependency (a throttle's store) that could not
// answer: 503 with DRF's ServiceUnavailable message; the cause is logged.
type unavailableError struct{ err error }

func unavailable(err error) error {
	var re Error
	if errors.As(err, &re) {
		return err
	}
	return &unavailableError{err: err}
}

func (e *unavailableError) Error() string            { return drfmsg.Unavailable }
func (e *unavailableError) Unwrap() error            { return e.err }
func (e *unavailableError) StatusCode() int          { return http.StatusServiceUnavailable }
func (e *unavailableError) SetHeaders(h http.Header) { h.Set("Retry-After", "1") }
