// Package idempotency makes POST and PATCH safe to retry with the
// Idempotency-Key request header (IETF draft "The Idempotency-Key HTTP
// Header Field"). Middleware runs the first request with a key and keeps
// its answer; a repeat with the same key, caller, method, path and body
// gets that answer again and runs nothing.
//
// Answers, as the draft gives them, with DRF's {"detail": ...} bodies:
//
//   - a key that is not 1 to 255 printable ASCII characters: 400
//   - the key of a request still running: 409
//   - the key of an earlier request with another body: 422
//   - a store that cannot answer: 503 with Retry-After, the request not run
//
// Kept answers are the 2xx ones and the client errors that a repeat would
// get again (400, 404, 405, 410, 413, 415, 422); any other answer (401,
// 403, 409, 429, 5xx) releases the key, so the request may be retried.
//
// Records live in a Store: RedisStore (shared by every instance) or
// DBStore (a table in the service's database). With DBStore the generic
// views of package views write the record in the transaction of the
// create, so a crash can never leave a created row without its record.
package idempotency

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/internal/reqscope"
)

// Header is the request header carrying the key.
const Header = "Idempotency-Key"

// ReplayedHeader is set to "true" on an answer replayed from a record.
const ReplayedHeader = "Idempotent-Replayed"

// MaxKeyLength is the longest key accepted, in bytes.
const MaxKeyLength = 255

// Messages of the answers Middleware gives itself.
const (
	MsgBadKey    = "Idempotency-Key must be 1 to 255 printable ASCII characters."
	MsgNoKey     = "This request requires an Idempotency-Key header."
	MsgRunning   = "A request with this Idempotency-Key is still being processed."
	MsgOtherBody = "This Idempotency-Key was already used with a different request body."
)

// Options configure Middleware.
type Options struct {
	// Store keeps the records. Required.
	Store Store
	// Required makes a POST or PATCH without the header a 400; by
	// default such a request runs without protection.
	Required bool
	// MaxBodyBytes bounds the request body read to hash it; 0 means
	// 1 MiB, the views' default. A larger body is answered with 413.
	MaxBodyBytes int64
	// MaxAnswerBytes bounds the answer body kept in a record; 0 means
	// 64 KiB. A larger answer is sent in full to the first caller and
	// kept without its body: a repeat gets its status and an empty body.
	MaxAnswerBytes int
	// StoreTimeout bounds the store calls made after the request ran
	// (keeping or releasing the key), when the request's own context may
	// be gone; 0 means 2 s.
	StoreTimeout time.Duration
}

// Middleware returns middleware that applies Idempotency-Key to POST and
// PATCH requests; other methods pass through untouched. It reads the
// caller from the authentication outcome (authentication.Middleware must
// run before it): keys are scoped to the caller's username, the method
// and the path, so the same key from two users, or on two routes, names
// two independent requests. A request whose credentials were rejected
// passes through, for the handler to answer.
//
// Middleware panics when o.Store is nil.
func Middleware(o Options) func(http.Handler) http.Handler {
	if o.Store == nil {
		panic("cosworth/idempotency: Options.Store is nil")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxAnswerBytes <= 0 {
		o.MaxAnswerBytes = 64 << 10
	}
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = 2 * time.Second
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost && r.Method != http.MethodPatch {
				next.ServeHTTP(w, r)
				return
			}
			vals := r.Header[Header]
			if len(vals) == 0 {
				if o.Required {
					jsonbody.Detail(w, http.StatusBadRequest, MsgNoKey)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			key, ok := ParseKey(vals)
			if !ok {
				jsonbody.Detail(w, http.StatusBadRequest, MsgBadKey)
				return
			}
			p := authentication.PrincipalFrom(r.Context())
			if err := authentication.ErrorFrom(r.Context()); err != nil {
				next.ServeHTTP(w, r)
				return
			}
			principal := ""
			if p != nil {
				principal = p.Username
			}
			o.serve(w, r, next, key, principal)
		})
	}
}

// ParseKey returns the key of the Idempotency-Key header values vals: a
// single value of 1 to 255 printable ASCII characters, in the draft's
// Structured Field form ("key", quoted) or bare.
func ParseKey(vals []string) (string, bool) {
	if len(vals) != 1 {
		return "", false
	}
	k := vals[0]
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	if len(k) == 0 || len(k) > MaxKeyLength {
		return "", false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "", false
		}
	}
	return k, true
}

func (o *Options) serve(w http.ResponseWriter, r *http.Request, next http.Handler, key, principal string) {
	ctx := r.Context()
	in := jsonbody.GetBuffer()
	defer jsonbody.PutBuffer(in)
	body, err := readBody(r.Body, o.MaxBodyBytes, in)
	if err != nil {
		if errors.Is(err, errTooLarge) || isMaxBytes(err) {
			jsonbody.Detail(w, http.StatusRequestEntityTooLarge, drfmsg.TooLarge)
		} else {
			jsonbody.Detail(w, http.StatusBadRequest, "Malformed request.")
		}
		return
	}
	sum := sha256.Sum256(body)
	rec := &Record{Principal: principal, Key: key, BodyHash: hex.EncodeToString(sum[:])}
	id := recordID(principal, r.Method, r.URL.Path, key)
	token := rand.Text()
	old, err := o.Store.Begin(ctx, id, token, rec)
	if err != nil {
		logStore(r, "idempotency store unavailable", err)
		w.Header().Set("Retry-After", "1")
		jsonbody.Detail(w, http.StatusServiceUnavailable, drfmsg.Unavailable)
		return
	}
	if old != nil {
		switch {
		case old.BodyHash != rec.BodyHash:
			jsonbody.Detail(w, http.StatusUnprocessableEntity, MsgOtherBody)
		case !old.Done:
			jsonbody.Detail(w, http.StatusConflict, MsgRunning)
		default:
			replay(w, old)
		}
		return
	}

	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	out := jsonbody.GetBuffer()
	defer jsonbody.PutBuffer(out)
	rw := &writer{ResponseWriter: w, o: o, id: id, token: token, rec: rec, buf: out}
	finished := false
	defer func() {
		if !finished {
			// The handler panicked: free the key for a retry; the
			// recoverer above answers.
			sctx, cancel := o.storeContext(ctx)
			defer cancel()
			_ = o.Store.Release(sctx, id, token)
		}
	}()
	next.ServeHTTP(rw, r)
	finished = true
	rw.finish(r)
}

// storeContext is ctx without its cancellation (the client may be gone,
// the answer must still be kept) and bounded by StoreTimeout.
func (o *Options) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), o.StoreTimeout)
}

// recordID is the store's name for a key: a hash of the caller, method,
// path and key, each length-prefixed so no two tuples collide.
func recordID(principal, method, path, key string) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, s := range [...]string{principal, method, path, key} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// Kept reports whether an answer with status is kept for repeats: 2xx and
// the client errors a repeat would get again.
func Kept(status int) bool {
	if status >= 200 && status < 300 {
		return true
	}
	switch status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusGone,
		http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// replay writes a stored answer.
func replay(w http.ResponseWriter, rec *Record) {
	h := w.Header()
	if rec.ContentType != "" {
		h.Set("Content-Type", rec.ContentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(rec.Body)))
	h.Set(ReplayedHeader, "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

var errTooLarge = errors.New("body too large")

func isMaxBytes(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// readBody reads all of body into buf, at most limit bytes.
func readBody(body io.Reader, limit int64, buf *[]byte) ([]byte, error) {
	if body == nil || body == http.NoBody {
		return nil, nil
	}
	b := *buf
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			*buf = b
			return nil, errTooLarge
		}
		if err == io.EOF {
			*buf = b
			return b, nil
		}
		if err != nil {
			*buf = b
			return nil, err
		}
	}
}

func logStore(r *http.Request, msg string, err error) {
	reqscope.Logger(r.Context()).LogAttrs(r.Context(), slog.LevelWarn, msg, slog.String("error", err.Error()))
}

// writer holds the answer of the first request with a key until it is
// kept, so that a repeat arriving after the answer always finds it.
type writer struct {
	http.ResponseWriter
	o        *Options
	id       string
	token    string
	rec      *Record
	buf      *[]byte
	status   int
	overflow bool // the answer outgrew MaxAnswerBytes and went out as written
	recorded int  // the status FinishTx kept in the handler's transaction
}

// WriteHeader holds the status until the answer is complete.
func (w *writer) WriteHeader(code int) {
	if w.status != 0 || code < 200 {
		return
	}
	w.status = code
}

// Write holds b, or sends it on once the answer outgrows MaxAnswerBytes.
func (w *writer) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.overflow {
		return w.ResponseWriter.Write(b)
	}
	if len(*w.buf)+len(b) > w.o.MaxAnswerBytes {
		w.overflow = true
		w.ResponseWriter.WriteHeader(w.status)
		if _, err := w.ResponseWriter.Write(*w.buf); err != nil {
			return 0, err
		}
		return w.ResponseWriter.Write(b)
	}
	*w.buf = append(*w.buf, b...)
	return len(b), nil
}

// Unwrap returns the ResponseWriter underneath, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// RecordTx keeps the answer in tx when the Store is a TxStore (DBStore):
// the generic views call it just before COMMIT, so the record commits
// with the rows the request wrote. With another Store it does nothing and
// the answer is kept when the handler returns. It implements
// views.TxRecorder.
func (w *writer) RecordTx(ctx context.Context, tx bun.IDB, status int, contentType string, body []byte) error {
	ts, ok := w.o.Store.(TxStore)
	if !ok {
		return nil
	}
	if err := ts.FinishTx(ctx, tx, w.id, w.token, w.answer(status, contentType, body)); err != nil {
		switch {
		case errors.Is(err, ErrOtherDB):
			return nil
		case errors.Is(err, ErrLost):
			return errLost{}
		}
		return err
	}
	w.recorded = status
	return nil
}

// answer is the record of an answer, its body dropped beyond MaxAnswerBytes.
func (w *writer) answer(status int, contentType string, body []byte) *Record {
	rec := *w.rec
	rec.Done, rec.Status, rec.ContentType, rec.Body = true, status, contentType, body
	if len(body) > w.o.MaxAnswerBytes {
		rec.ContentType, rec.Body = "", nil
	}
	return &rec
}

// finish keeps or releases the key by the handler's answer, then sends
// the answer.
func (w *writer) finish(r *http.Request) {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	if w.recorded == 0 || w.recorded != status {
		// Not kept in the handler's transaction (another Store, a handler
		// that is not a generic view, or a COMMIT that failed after
		// RecordTx: then only a claim that is still running is touched,
		// so a commit that did happen keeps its record).
		ctx, cancel := w.o.storeContext(r.Context())
		if Kept(status) {
			rec := w.answer(status, w.Header().Get("Content-Type"), *w.buf)
			if w.overflow {
				rec.ContentType, rec.Body = "", nil
			}
			if err := w.o.Store.Finish(ctx, w.id, w.token, rec); err != nil {
				logStore(r, "idempotency: answer not kept", err)
			}
		} else if err := w.o.Store.Release(ctx, w.id, w.token); err != nil {
			logStore(r, "idempotency: key not released", err)
		}
		cancel()
	}
	if !w.overflow {
		w.ResponseWriter.WriteHeader(status)
		_, _ = w.ResponseWriter.Write(*w.buf)
	}
}

// errLost is a claim lost while the request ran (it outlived the store's
// lock time and a repeat took the key): its transaction rolls back.
type errLost struct{}

func (errLost) Error() string   { return MsgRunning }
func (errLost) StatusCode() int { return http.StatusConflict }
