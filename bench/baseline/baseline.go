// Package baseline is the hand-written books API the Cosworth benchmarks
// are compared to: chi for routing and pgxpool for the database, no
// framework and no ORM. It serves the books list (limit/offset with DRF's
// {"count","next","previous","results"} envelope), retrieve, create and
// full update (PUT) of the bookstore contract, answering the same JSON
// bytes as the Cosworth server in ../cosworthsrv, over the schema of
// ../bookdb.
//
// It is written the way a Go engineer writes a fast handler by hand: fixed
// parameterized SQL (prepared once per connection by pgx), rows scanned
// into locals and appended straight to a pooled byte buffer, and one
// statement per write. It is the floor every Cosworth figure is compared
// to, not a straw man.
package baseline

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Pagination bounds, as the contract's LimitOffset: ?limit= defaults to 10
// and is capped at 100.
const (
	defaultLimit = 10
	maxLimit     = 100
	maxBody      = 1 << 20
	timeout      = 10 * time.Second
)

// User is the caller a write is made for.
type User struct {
	ID       int64
	Username string
	IsStaff  bool
}

// Handler serves the books API.
type Handler struct {
	pool   *pgxpool.Pool
	token  string
	user   User
	logger *slog.Logger
	mux    chi.Router
}

// New returns the books API over pool. Writes must carry
// "Authorization: Token <token>" and are made as user; token must not be
// empty.
func New(pool *pgxpool.Pool, token string, user User, logger *slog.Logger) *Handler {
	if token == "" {
		panic("baseline: empty token")
	}
	if logger == nil {
		logger = slog.Default()
	}
	h := &Handler{pool: pool, token: token, user: user, logger: logger}
	r := chi.NewRouter()
	r.Get("/api/books/", h.list)
	r.Post("/api/books/", h.create)
	r.Get("/api/books/{id}/", h.retrieve)
	r.Put("/api/books/{id}/", h.update)
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeDetail(w, http.StatusMethodNotAllowed, `Method "`+r.Method+`" not allowed.`)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeDetail(w, http.StatusNotFound, msgNotFound)
	})
	h.mux = r
	return h
}

// ServeHTTP routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

const (
	msgNotFound    = "Not found."
	msgServerError = "A server error occurred."
	msgNotAuth     = "Authentication credentials were not provided."
	msgBadToken    = "Invalid token."
	msgDenied      = "You do not have permission to perform this action."
	msgRequired    = "This field is required."
	msgNull        = "This field may not be null."
)

const bookColumns = `id, title, isbn, author_id, price_cents, published_on, owner, created_at`

const (
	sqlCount = `SELECT count(*) FROM books`
	sqlPage  = `SELECT ` + bookColumns + ` FROM books ORDER BY id LIMIT $1 OFFSET $2`
	sqlGet   = `SELECT ` + bookColumns + ` FROM books WHERE id = $1`
	sqlOwner = `SELECT owner FROM books WHERE id = $1`
	sqlAdd   = `INSERT INTO books (title, isbn, author_id, price_cents, published_on, owner)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`
	// sqlPut updates a book the caller may change, in one statement: no
	// row means the book is missing or not the caller's (sqlOwner tells
	// which).
	sqlPut = `UPDATE books SET title = $2, isbn = $3, author_id = $4, price_cents = $5, published_on = $6
		WHERE id = $1 AND (owner = $7 OR $8)
		RETURNING ` + bookColumns
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 8192); return &b }}

func getBuf() *[]byte { b := bufPool.Get().(*[]byte); *b = (*b)[:0]; return b }

func putBuf(b *[]byte) {
	if cap(*b) <= 1<<20 {
		bufPool.Put(b)
	}
}

// book is one row, scanned into locals without allocating per field
// beyond the strings.
type book struct {
	id          int64
	title       string
	isbn        string
	author      int64
	priceCents  int64
	publishedOn pgtype.Date
	owner       string
	createdAt   time.Time
}

func (b *book) scanTargets() []any {
	return []any{&b.id, &b.title, &b.isbn, &b.author, &b.priceCents, &b.publishedOn, &b.owner, &b.createdAt}
}

// list answers GET /api/books/?limit=&offset=.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	q := r.URL.Query()
	limit := defaultLimit
	if n, err := strconv.Atoi(strings.TrimSpace(q.Get("limit"))); err == nil && n > 0 {
		limit = min(n, maxLimit)
	}
	offset := 0
	if n, err := strconv.Atoi(strings.TrimSpace(q.Get("offset"))); err == nil && n >= 0 {
		offset = n
	}
	var count int64
	if err := h.pool.QueryRow(ctx, sqlCount).Scan(&count); err != nil {
		h.fail(w, r, err)
		return
	}
	out := getBuf()
	defer putBuf(out)
	buf := append(*out, `{"count":`...)
	buf = strconv.AppendInt(buf, count, 10)
	buf = append(buf, `,"next":`...)
	if int64(offset) < count-int64(limit) {
		buf = appendLink(buf, r, q, limit, offset+limit)
	} else {
		buf = append(buf, "null"...)
	}
	buf = append(buf, `,"previous":`...)
	if offset > 0 {
		buf = appendLink(buf, r, q, limit, max(offset-limit, 0))
	} else {
		buf = append(buf, "null"...)
	}
	buf = append(buf, `,"results":[`...)
	if int64(offset) < count {
		rows, err := h.pool.Query(ctx, sqlPage, limit, offset)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		var b book
		targets := b.scanTargets()
		first := true
		for rows.Next() {
			if err := rows.Scan(targets...); err != nil {
				rows.Close()
				h.fail(w, r, err)
				return
			}
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = b.appendJSON(buf)
		}
		if err := rows.Err(); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	buf = append(buf, "]}"...)
	*out = buf
	writeJSON(w, http.StatusOK, buf)
}

// appendLink appends the JSON string of this URL with limit and offset
// replaced (offset removed when 0), keys sorted, as DRF builds next and
// previous.
func appendLink(dst []byte, r *http.Request, q url.Values, limit, offset int) []byte {
	q2 := make(url.Values, len(q)+2)
	for k, v := range q {
		q2[k] = v
	}
	q2.Set("limit", strconv.Itoa(limit))
	if offset > 0 {
		q2.Set("offset", strconv.Itoa(offset))
	} else {
		q2.Del("offset")
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return appendString(dst, scheme+r.Host+r.URL.EscapedPath()+"?"+q2.Encode())
}

// retrieve answers GET /api/books/{id}/.
func (h *Handler) retrieve(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	var b book
	if err := h.pool.QueryRow(ctx, sqlGet, id).Scan(b.scanTargets()...); err != nil {
		h.fail(w, r, err)
		return
	}
	out := getBuf()
	*out = b.appendJSON(*out)
	writeJSON(w, http.StatusOK, *out)
	putBuf(out)
}

// bookIn is a request body; pointers tell absent and null from zero.
type bookIn struct {
	Title       *string         `json:"title"`
	ISBN        *string         `json:"isbn"`
	Author      *int64          `json:"author"`
	PriceCents  *int64          `json:"price_cents"`
	PublishedOn json.RawMessage `json:"published_on"`
}

// valid is a validated body.
type valid struct {
	title, isbn        string
	author, priceCents int64
	publishedOn        pgtype.Date
}

// fieldErrors is DRF's {"field": ["message"]}, in field order.
type fieldErrors []struct{ field, msg string }

func (e *fieldErrors) add(field, msg string) {
	*e = append(*e, struct{ field, msg string }{field, msg})
}

func (e fieldErrors) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i, f := range e {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, f.field)
		dst = append(dst, ":["...)
		dst = appendString(dst, f.msg)
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// decode reads and validates a create or PUT body (every required field
// present). It answers the request itself and returns false on a problem.
func decode(w http.ResponseWriter, r *http.Request) (valid, bool) {
	var v valid
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeDetail(w, http.StatusUnsupportedMediaType, `Unsupported media type "`+ct+`" in request.`)
			return v, false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeDetail(w, http.StatusRequestEntityTooLarge, "Request body is too large.")
		} else {
			writeDetail(w, http.StatusBadRequest, "JSON parse error - could not read the body")
		}
		return v, false
	}
	var in bookIn
	if err := json.Unmarshal(body, &in); err != nil {
		writeDetail(w, http.StatusBadRequest, "JSON parse error - "+jsonReason(err))
		return v, false
	}
	var fe fieldErrors
	switch {
	case in.Title == nil:
		fe.add("title", msgRequired)
	case strings.TrimSpace(*in.Title) == "":
		fe.add("title", "This field may not be blank.")
	case len([]rune(*in.Title)) > 200:
		fe.add("title", "Ensure this field has no more than 200 characters.")
	default:
		v.title = *in.Title
	}
	switch {
	case in.ISBN == nil:
		fe.add("isbn", msgRequired)
	case !isISBN(*in.ISBN):
		fe.add("isbn", "Ensure this field has exactly 13 digits.")
	default:
		v.isbn = *in.ISBN
	}
	if in.Author == nil {
		fe.add("author", msgRequired)
	} else {
		v.author = *in.Author
	}
	switch {
	case in.PriceCents == nil:
		fe.add("price_cents", msgRequired)
	case *in.PriceCents < 0:
		fe.add("price_cents", "Ensure this value is greater than or equal to 0.")
	default:
		v.priceCents = *in.PriceCents
	}
	if s := string(in.PublishedOn); s != "" && s != "null" {
		var ds string
		var t time.Time
		err := json.Unmarshal(in.PublishedOn, &ds)
		if err == nil {
			t, err = time.Parse(time.DateOnly, ds)
		}
		if err != nil {
			fe.add("published_on", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")
		} else {
			v.publishedOn = pgtype.Date{Time: t, Valid: true}
		}
	}
	if len(fe) > 0 {
		out := getBuf()
		*out = fe.appendJSON(*out)
		writeJSON(w, http.StatusBadRequest, *out)
		putBuf(out)
		return v, false
	}
	return v, true
}

func isISBN(s string) bool {
	if len(s) != 13 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error()
	}
	return "invalid JSON"
}

// authenticate returns the caller of a write, or answers 401 and returns
// false.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (User, bool) {
	a := r.Header.Get("Authorization")
	if a == "" {
		w.Header().Set("WWW-Authenticate", "Token")
		writeDetail(w, http.StatusUnauthorized, msgNotAuth)
		return User{}, false
	}
	key, ok := strings.CutPrefix(a, "Token ")
	if !ok || subtle.ConstantTimeCompare([]byte(key), []byte(h.token)) != 1 {
		w.Header().Set("WWW-Authenticate", "Token")
		writeDetail(w, http.StatusUnauthorized, msgBadToken)
		return User{}, false
	}
	return h.user, true
}

// create answers POST /api/books/.
func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	u, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	v, ok := decode(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	b := book{title: v.title, isbn: v.isbn, author: v.author, priceCents: v.priceCents, publishedOn: v.publishedOn, owner: u.Username}
	err := h.pool.QueryRow(ctx, sqlAdd, v.title, v.isbn, v.author, v.priceCents, v.publishedOn, u.Username).Scan(&b.id, &b.createdAt)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := getBuf()
	*out = b.appendJSON(*out)
	writeJSON(w, http.StatusCreated, *out)
	putBuf(out)
}

// update answers PUT /api/books/{id}/: the caller must own the book or be
// staff.
func (h *Handler) update(w http.ResponseWriter, r *http.Request) {
	u, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	v, ok := decode(w, r)
	if !ok {
		return
	}
	var b book
	err = h.pool.QueryRow(ctx, sqlPut, id, v.title, v.isbn, v.author, v.priceCents, v.publishedOn, u.Username, u.IsStaff).Scan(b.scanTargets()...)
	if errors.Is(err, pgx.ErrNoRows) {
		// Missing, or not the caller's: tell which.
		var owner string
		if err := h.pool.QueryRow(ctx, sqlOwner, id).Scan(&owner); err != nil {
			h.fail(w, r, err)
			return
		}
		writeDetail(w, http.StatusForbidden, msgDenied)
		return
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := getBuf()
	*out = b.appendJSON(*out)
	writeJSON(w, http.StatusOK, *out)
	putBuf(out)
}

// writeError answers a failed write: an integrity violation on a field is
// a 400 on that field.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		var fe fieldErrors
		switch {
		case pe.Code == "23505" && pe.ConstraintName == "books_isbn_key":
			fe.add("isbn", "book with this isbn already exists.")
		case pe.Code == "23503" && pe.ConstraintName == "books_author_id_fkey":
			fe.add("author", "Invalid pk - object does not exist.")
		}
		if len(fe) > 0 {
			out := getBuf()
			*out = fe.appendJSON(*out)
			writeJSON(w, http.StatusBadRequest, *out)
			putBuf(out)
			return
		}
	}
	h.fail(w, r, err)
}

// fail answers a failed query: no row is a 404, anything else a logged 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, pgx.ErrNoRows) {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	if r.Context().Err() != nil {
		return
	}
	h.logger.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("error", err.Error()))
	writeDetail(w, http.StatusInternalServerError, msgServerError)
}

// appendJSON appends the book's representation, in the contract's field
// order.
func (b *book) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, b.id, 10)
	dst = append(dst, `,"title":`...)
	dst = appendString(dst, b.title)
	dst = append(dst, `,"isbn":`...)
	dst = appendString(dst, b.isbn)
	dst = append(dst, `,"author":`...)
	dst = strconv.AppendInt(dst, b.author, 10)
	dst = append(dst, `,"price_cents":`...)
	dst = strconv.AppendInt(dst, b.priceCents, 10)
	dst = append(dst, `,"published_on":`...)
	if b.publishedOn.Valid && b.publishedOn.InfinityModifier == pgtype.Finite {
		dst = append(dst, '"')
		dst = b.publishedOn.Time.AppendFormat(dst, time.DateOnly)
		dst = append(dst, '"')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"owner":`...)
	dst = appendString(dst, b.owner)
	dst = append(dst, `,"created_at":"`...)
	dst = appendDateTime(dst, b.createdAt)
	return append(dst, `"}`...)
}

// appendDateTime appends t as DRF's DateTimeField does in UTC:
// datetime.isoformat() (microseconds only when not zero) with "+00:00"
// written "Z".
func appendDateTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.')
		for d := 100000; d > 0; d /= 10 {
			dst = append(dst, byte('0'+us/d%10))
		}
	}
	return append(dst, 'Z')
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeDetail(w http.ResponseWriter, status int, msg string) {
	out := getBuf()
	*out = append(*out, `{"detail":`...)
	*out = appendString(*out, msg)
	*out = append(*out, '}')
	writeJSON(w, status, *out)
	putBuf(out)
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// (HTML-safe, U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
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
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == 0x2028 || r == 0x2029 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
