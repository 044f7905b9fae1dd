// Package respond writes DRF-shaped JSON responses and turns errors into
// them. It is the single place where an error becomes a status code and a
// body: producing packages give their errors a StatusCode method (and,
// where needed, a body and headers) and never write responses themselves.
package respond

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/cosworth/cosworth/models"
)

// Error is an error that knows the HTTP response it becomes.
type Error interface {
	error
	// StatusCode is the HTTP status of the response.
	StatusCode() int
}

// Bodier is implemented by an Error whose body is not {"detail": Error()}.
type Bodier interface {
	// AppendJSON appends the complete JSON body to dst.
	AppendJSON(dst []byte) []byte
}

// Headerer is implemented by an Error that sets response headers
// (WWW-Authenticate, Retry-After, Allow).
type Headerer interface {
	SetHeaders(h http.Header)
}

// Standard DRF messages.
const (
	MsgNotFound     = "Not found."
	MsgServerError  = "A server error occurred."
	MsgUnavailable  = "Service temporarily unavailable, try again later."
	MsgNotAuth      = "Authentication credentials were not provided."
	MsgPermission   = "You do not have permission to perform this action."
	MsgTooLarge     = "Request body is too large."
	MsgInvalidPage  = "Invalid page."
	MsgInvalidCurso = "Invalid cursor"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// GetBuffer returns a pooled byte slice of length zero. Return it with PutBuffer.
func GetBuffer() *[]byte { b := bufPool.Get().(*[]byte); *b = (*b)[:0]; return b }

// PutBuffer returns b to the pool unless it grew too large to keep.
func PutBuffer(b *[]byte) {
	if cap(*b) > 1<<20 {
		return
	}
	bufPool.Put(b)
}

// JSON writes body with the given status and Content-Type application/json.
func JSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = contentLength(len(body))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// lengthValue is a Content-Length header value with the bytes of its
// digits, so that it takes one allocation rather than two (the slice and
// the string).
type lengthValue struct {
	v      [1]string
	digits [20]byte
}

// contentLength returns the header value for a body of n bytes.
func contentLength(n int) []string {
	c := new(lengthValue)
	d := strconv.AppendInt(c.digits[:0], int64(n), 10)
	// d is c.digits (20 bytes hold any int), written once and never again.
	c.v[0] = unsafe.String(&d[0], len(d))
	return c.v[:]
}

var jsonContentType = []string{"application/json"}

// Detail writes {"detail": msg} with the given status.
func Detail(w http.ResponseWriter, status int, msg string) {
	b := GetBuffer()
	*b = AppendDetail(*b, msg)
	JSON(w, status, *b)
	PutBuffer(b)
}

// AppendDetail appends {"detail":"msg"} to dst.
func AppendDetail(dst []byte, msg string) []byte {
	dst = append(dst, `{"detail":`...)
	dst = AppendString(dst, msg)
	return append(dst, '}')
}

// Write renders err as a response. Errors implementing Error choose their
// status; models.ErrNotFound is 404; models.ErrUnavailable and deadline
// errors are 503; a request the client canceled is logged and not answered;
// anything else is logged with its cause and answered with a generic 500.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	switch e, isError := asError(err); {
	case isError:
		if hd, ok := e.(Headerer); ok {
			hd.SetHeaders(w.Header())
		}
		status := e.StatusCode()
		if status >= 500 {
			// The body is the error's fixed public text; the cause goes to the log.
			Logger(r.Context()).LogAttrs(r.Context(), slog.LevelWarn, "request failed", slog.Int("status", status), slog.String("error", cause(err).Error()))
		}
		if bd, ok := e.(Bodier); ok {
			b := GetBuffer()
			*b = bd.AppendJSON(*b)
			JSON(w, status, *b)
			PutBuffer(b)
			return
		}
		Detail(w, status, e.Error())
	case errors.Is(err, models.ErrNotFound):
		Detail(w, http.StatusNotFound, MsgNotFound)
	case r.Context().Err() == context.Canceled:
		Logger(r.Context()).LogAttrs(r.Context(), slog.LevelInfo, "request canceled by client", slog.String("error", err.Error()))
	case errors.Is(err, models.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		Logger(r.Context()).LogAttrs(r.Context(), slog.LevelWarn, "dependency unavailable", slog.String("error", err.Error()))
		w.Header().Set("Retry-After", "1")
		Detail(w, http.StatusServiceUnavailable, MsgUnavailable)
	default:
		Logger(r.Context()).LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("error", err.Error()))
		Detail(w, http.StatusInternalServerError, MsgServerError)
	}
}

// asError finds the first Error in err's chain, as errors.As does, without
// allocating when err itself is one.
func asError(err error) (Error, bool) {
	if e, ok := err.(Error); ok {
		return e, true
	}
	var e Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

type scopeKey struct{}

// Scope is what the server middleware records about a request for its
// logs: the request id, and the logger the request-scoped logger derives
// from. The derived logger (base.With(request_id)) is built on first use,
// so a request that logs nothing but its access line does not pay for it.
type Scope struct {
	// ID is the request id.
	ID     string
	base   *slog.Logger
	logger atomic.Pointer[slog.Logger]
}

// ScopeContext is a context carrying a Scope, in a single allocation with
// it (context.WithValue would take one for the value and one for the
// context). Embed it in a per-request struct, call Init, and derive the
// request's context from it.
type ScopeContext struct {
	context.Context
	scope Scope
}

// Init makes c the child of parent carrying the request id and the base
// logger. Call it once, before c is used as a context.
func (c *ScopeContext) Init(parent context.Context, id string, base *slog.Logger) {
	c.Context = parent
	c.scope.ID = id
	c.scope.base = base
}

// Value returns the Scope for the scope key and asks the parent otherwise.
func (c *ScopeContext) Value(key any) any {
	if key == (scopeKey{}) {
		return &c.scope
	}
	return c.Context.Value(key)
}

// Logger returns the request-scoped logger: the base logger with the
// request_id attribute, built once.
func (s *Scope) Logger() *slog.Logger {
	if l := s.logger.Load(); l != nil {
		return l
	}
	s.logger.CompareAndSwap(nil, s.base.With(slog.String("request_id", s.ID)))
	return s.logger.Load()
}

// Base returns the logger the request-scoped one derives from, for log
// lines that add the request_id attribute themselves.
func (s *Scope) Base() *slog.Logger { return s.base }

// ScopeFrom returns the Scope of ctx, or nil outside a request the server
// middleware handles.
func ScopeFrom(ctx context.Context) *Scope {
	s, _ := ctx.Value(scopeKey{}).(*Scope)
	return s
}

// Logger returns the request-scoped logger of ctx, or slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	if s := ScopeFrom(ctx); s != nil {
		return s.Logger()
	}
	return slog.Default()
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal, escaping as
// encoding/json does (including <, >, & and U+2028/U+2029); invalid UTF-8
// becomes U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
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
