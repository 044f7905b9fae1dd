package cosworth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/internal/reqscope"
)

// Messages of the responses the middleware writes itself.
const (
	MsgURITooLong       = "Request URI is too long."
	MsgTooManyParams    = "Too many query parameters."
	RequestIDHeader     = "X-Request-Id"
	maxRequestIDLen     = 64
	requestIDRandomLen  = 32
	retryAfterOverload  = "1"
	accessLogMessage    = "request"
	panicLogMessage     = "panic serving request"
	overloadLogMessage  = "overloaded, request refused"
	bodyLimitLogMessage = "request body too large"
)

// Middleware returns the server's protective middleware, configured by cfg
// (zero fields mean their defaults). For each request, outermost first, it:
//
//   - sets X-Content-Type-Options: nosniff on every response, as
//     Django's SecurityMiddleware does by default;
//   - takes a well-formed incoming X-Request-Id (at most 64 characters of
//     [A-Za-z0-9._-]) or generates one, echoes it in the response, and puts
//     it in the context (RequestID) and in a request-scoped logger (Logger);
//   - writes one structured access-log line with method, path (never the
//     query string, which may carry secrets), status, duration, bytes and
//     request id;
//   - recovers a panic into a 500 {"detail": "A server error occurred."},
//     the stack going to the log only (http.ErrAbortHandler is re-panicked;
//     a panic after the response started aborts the connection);
//   - refuses at once with 503 and Retry-After a request beyond
//     cfg.MaxInFlight concurrent ones;
//   - answers 414 a query string over cfg.MaxQueryBytes and 400 one with more
//     than cfg.MaxQueryParams parameters;
//   - answers 413 a body declared (Content-Length) or read beyond
//     cfg.MaxBodyBytes: whatever the handler then writes is replaced by the
//     DRF-shaped 413;
//   - gives the request context the deadline cfg.RequestTimeout.
//
// NewServer applies it; use it directly only with an http.Server of your own.
func Middleware(logger *slog.Logger, cfg Config) func(http.Handler) http.Handler {
	if logger == nil {
		panic("cosworth: Middleware needs a logger")
	}
	cfg = cfg.withDefaults()
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("cosworth: Middleware needs a handler")
		}
		return &guard{
			next:     next,
			logger:   logger,
			cfg:      cfg,
			inFlight: make(chan struct{}, cfg.MaxInFlight),
		}
	}
}

// guard is the middleware stack as one handler: each step is a plain
// statement in ServeHTTP, in the order Middleware documents.
type guard struct {
	next     http.Handler
	logger   *slog.Logger
	cfg      Config
	inFlight chan struct{}
}

// exchange holds what the middleware keeps for one request, in one
// allocation: the context carrying the request id and logger, the
// recording writer, the bounded body and the X-Request-Id header value.
type exchange struct {
	ctx  reqscope.Context
	rec  recorder
	body limitedBody
	id   [1]string
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get(RequestIDHeader)
	if !validRequestID(id) {
		id = newRequestID()
	}
	ex := &exchange{id: [1]string{id}}
	h := w.Header()
	h[RequestIDHeader] = ex.id[:]
	// As Django's SecurityMiddleware does by default: browsers must not
	// sniff a JSON (or error) body into something executable.
	h["X-Content-Type-Options"] = nosniff
	ex.ctx.Init(r.Context(), id, g.logger)
	ctx, cancel := context.WithTimeout(&ex.ctx, g.cfg.RequestTimeout)
	defer cancel()
	r = r.WithContext(ctx)

	rec := &ex.rec
	rec.ResponseWriter = w
	defer g.finish(ex, r, start)

	select {
	case g.inFlight <- struct{}{}:
		defer func() { <-g.inFlight }()
	default:
		g.logger.LogAttrs(ctx, slog.LevelWarn, overloadLogMessage, slog.String("request_id", id), slog.Int("max_in_flight", g.cfg.MaxInFlight))
		rec.Header().Set("Retry-After", retryAfterOverload)
		jsonbody.Detail(rec, http.StatusServiceUnavailable, drfmsg.Unavailable)
		return
	}

	if len(r.URL.RawQuery) > g.cfg.MaxQueryBytes {
		jsonbody.Detail(rec, http.StatusRequestURITooLong, MsgURITooLong)
		return
	}
	if countParams(r.URL.RawQuery) > g.cfg.MaxQueryParams {
		jsonbody.Detail(rec, http.StatusBadRequest, MsgTooManyParams)
		return
	}

	if r.ContentLength > g.cfg.MaxBodyBytes {
		// Do not read a body declared too large; close the connection
		// rather than drain it.
		rec.Header().Set("Connection", "close")
		jsonbody.Detail(rec, http.StatusRequestEntityTooLarge, drfmsg.TooLarge)
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		// The reader is bound to the server's own ResponseWriter so that
		// net/http closes the connection after an oversized body.
		ex.body = limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes), rec: rec}
		r.Body = &ex.body
	}

	g.next.ServeHTTP(rec, r)
}

// finish recovers a panic of the handler and writes the access-log line.
func (g *guard) finish(ex *exchange, r *http.Request, start time.Time) {
	rec := &ex.rec
	if v := recover(); v != nil {
		if v == http.ErrAbortHandler {
			g.access(ex, r, start, true)
			panic(v)
		}
		g.logger.LogAttrs(r.Context(), slog.LevelError, panicLogMessage, slog.String("request_id", ex.id[0]),
			slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
		if rec.wroteHeader {
			// Part of a response is out: the only honest signal left is
			// to abort the connection.
			rec.status = http.StatusInternalServerError
			g.access(ex, r, start, true)
			panic(http.ErrAbortHandler)
		}
		jsonbody.Detail(rec, http.StatusInternalServerError, drfmsg.ServerError)
	}
	g.access(ex, r, start, false)
}

// access writes the access-log line. It logs with the base logger and the
// request_id attribute first, which is the line the request-scoped logger
// would write, without building that logger.
func (g *guard) access(ex *exchange, r *http.Request, start time.Time, aborted bool) {
	rec := &ex.rec
	status := rec.status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http sends an empty 200
	}
	level := slog.LevelInfo
	if status >= 500 || aborted {
		level = slog.LevelError
	}
	attrs := [...]slog.Attr{
		slog.String("request_id", ex.id[0]),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.Int64("bytes", rec.bytes),
		slog.String("remote", r.RemoteAddr),
		slog.Bool("aborted", aborted),
	}
	n := len(attrs)
	if !aborted {
		n-- // "aborted" only when true
	}
	g.logger.LogAttrs(r.Context(), level, accessLogMessage, attrs[:n]...)
}

// countParams counts the &-separated, non-empty parameters of a raw query
// without allocating.
func countParams(q string) int {
	n := 0
	for q != "" {
		var part string
		part, q, _ = strings.Cut(q, "&")
		if part != "" {
			n++
		}
	}
	return n
}

// recorder remembers the status and size of the response for the access
// log, and swaps whatever the handler writes for a 413 once the request
// body went over its bound.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	tooLarge    bool // the body hit its bound
	replaced    bool // the handler's response was replaced by the 413
}

func (w *recorder) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	if w.tooLarge && status != http.StatusRequestEntityTooLarge {
		w.replace()
		return
	}
	if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(status) // informational: the real header follows
		return
	}
	w.wroteHeader = true
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// replace writes the DRF 413 in place of the handler's response.
func (w *recorder) replace() {
	w.replaced = true
	h := w.ResponseWriter.Header()
	for k := range h {
		if k != RequestIDHeader && k != "X-Content-Type-Options" {
			delete(h, k)
		}
	}
	h.Set("Connection", "close")
	b := jsonbody.GetBuffer()
	*b = jsonbody.AppendDetail(*b, drfmsg.TooLarge)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(*b)))
	w.wroteHeader = true
	w.status = http.StatusRequestEntityTooLarge
	w.ResponseWriter.WriteHeader(http.StatusRequestEntityTooLarge)
	n, _ := w.ResponseWriter.Write(*b)
	w.bytes += int64(n)
	jsonbody.PutBuffer(b)
}

func (w *recorder) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(p), nil // the handler's body is dropped
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush flushes the underlying writer when it can.
func (w *recorder) Flush() {
	if w.replaced {
		return
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// limitedBody is the request body behind http.MaxBytesReader; it marks the
// response for replacement when the bound is hit.
type limitedBody struct {
	io.ReadCloser
	rec *recorder
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.rec.tooLarge {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			b.rec.tooLarge = true
		}
	}
	return n, err
}

var nosniff = []string{"nosniff"}

// RequestID returns the request id Middleware gave ctx's request, or "".
func RequestID(ctx context.Context) string {
	if s := reqscope.From(ctx); s != nil {
		return s.ID
	}
	return ""
}

// Logger returns the request-scoped logger Middleware put in ctx (it
// carries the request id), or slog.Default() outside a request.
func Logger(ctx context.Context) *slog.Logger { return reqscope.Logger(ctx) }

// validRequestID reports whether id is 1 to 64 characters of [A-Za-z0-9._-].
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// newRequestID returns 32 random hex digits (128 bits from the runtime's
// ChaCha8 generator: unguessable enough for correlation, not a secret).
func newRequestID() string {
	var b [requestIDRandomLen]byte
	const hex = "0123456789abcdef"
	x, y := rand.Uint64(), rand.Uint64()
	for i := 0; i < 16; i++ {
		b[i] = hex[x&0xf]
		b[16+i] = hex[y&0xf]
		x >>= 4
		y >>= 4
	}
	return string(b[:])
}
