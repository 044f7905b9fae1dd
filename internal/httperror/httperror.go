// Package httperror turns an error into its HTTP response. It implements
// the mapping that views.WriteError documents and exports; it lives below
// views so that the packages views imports (authentication's credential
// handlers, throttling.Handler) answer their errors the same way.
//
// Error, Body and Headers have the method sets of views.Error,
// views.ErrorBody and views.ErrorHeaders (a test in views asserts it):
// the producing packages cannot import views and implement them
// structurally.
package httperror

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/internal/reqscope"
	"github.com/cosworth/cosworth/models"
)

// Error is views.Error: an error that chooses its HTTP status.
type Error interface {
	error
	StatusCode() int
}

// Body is views.ErrorBody: an Error whose body is not {"detail": Error()}.
type Body interface {
	AppendJSON(dst []byte) []byte
}

// Headers is views.ErrorHeaders: an Error that sets response headers.
type Headers interface {
	SetHeaders(h http.Header)
}

// Write renders err as a response. Errors implementing Error choose their
// status; models.ErrNotFound is 404; models.ErrUnavailable and deadline
// errors are 503; a request the client canceled is logged and not answered;
// anything else is logged with its cause and answered with a generic 500.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	switch e, isError := As(err); {
	case isError:
		if hd, ok := e.(Headers); ok {
			hd.SetHeaders(w.Header())
		}
		status := e.StatusCode()
		if status >= 500 {
			// The body is the error's fixed public text; the cause goes to the log.
			reqscope.Logger(r.Context()).LogAttrs(r.Context(), slog.LevelWarn, "request failed", slog.Int("status", status), slog.String("error", cause(err).Error()))
		}
		if bd, ok := e.(Body); ok {
			b := jsonbody.GetBuffer()
			*b = bd.AppendJSON(*b)
			jsonbody.Write(w, status, *b)
			jsonbody.PutBuffer(b)
			return
		}
		jsonbody.Detail(w, status, e.Error())
	case errors.Is(err, models.ErrNotFound):
		jsonbody.Detail(w, http.StatusNotFound, drfmsg.NotFound)
	case r.Context().Err() == context.Canceled:
		reqscope.Logger(r.Context()).LogAttrs(r.Context(), slog.LevelInfo, "request canceled by client", slog.String("error", err.Error()))
	case errors.Is(err, models.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		reqscope.Logger(r.Context()).LogAttrs(r.Context(), slog.LevelWarn, "dependency unavailable", slog.String("error", err.Error()))
		w.Header().Set("Retry-After", "1")
		jsonbody.Detail(w, http.StatusServiceUnavailable, drfmsg.Unavailable)
	default:
		reqscope.Logger(r.Context()).LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("error", err.Error()))
		jsonbody.Detail(w, http.StatusInternalServerError, drfmsg.ServerError)
	}
}

// As finds the first Error in err's chain, as errors.As does, without
// allocating when err itself is one.
func As(err error) (Error, bool) {
	if e, ok := err.(Error); ok {
		return e, true
	}
	var e Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// cause returns the innermost wrapped error, for logs.
func cause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}
