package pagination

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/querystring"
	"github.com/cosworth/cosworth/models"
)

// Cursor pages results by an opaque cursor, as DRF's CursorPagination,
// answering {"next","previous","results"} (no count). It is the paginator
// for large or fast-growing tables: each page is a keyset query (WHERE
// (col, pk) < (last seen) ORDER BY col, pk LIMIT n+1) that uses an index
// and does not slow down with depth, and a walk through the pages returns
// every row exactly once even while rows are inserted. It cannot jump to a
// page number and has no total count; choose PageNumber or LimitOffset for
// those.
//
// The ordering is one model field, ascending or descending ("-id", the
// default, is newest first), with the primary key appended as a
// tie-breaker, so the position is always unique. The field must not be
// NULL (the primary key, a field tagged bun:",notnull", or a non-pointer
// field without nullzero) and must be an integer, a string or a time.Time.
// Cursor orders the query itself (it implements SelfOrdering): views must
// not add an ORDER BY before it; DRF's use of the OrderingFilter's ordering
// is not supported.
//
// A cursor is base64url of the position and the direction, signed with
// HMAC-SHA256 under Key and bound to the model's table and the ordering. A
// cursor that does not decode or verify (forged, truncated, signed with
// another key, made for another model or ordering) is a 404 {"detail":
// "Invalid cursor"}. Cursors are opaque but not encrypted: a client can
// decode the position (an id, a timestamp) it carries.
type Cursor struct {
	// PageSize is the number of results per page; 0 means 10.
	PageSize int
	// Ordering is the JSON name of the ordering field, with a leading "-"
	// for descending; "" means "-id".
	Ordering string
	// Key signs cursors; it must be at least 32 bytes. When empty, a random
	// key generated once per process is used: cursors then stop verifying
	// when the process restarts and are not accepted by other instances, so
	// services with several instances must set a shared Key.
	Key []byte
	// QueryParam names the cursor parameter; "" means "cursor".
	QueryParam string
	// BaseURL, when set, replaces the request's scheme and host in next and
	// previous links; see PageNumber.BaseURL.
	BaseURL string
}

// Bounds of cursors.
const (
	// MinCursorKeyLen is the shortest Key a Cursor accepts.
	MinCursorKeyLen = 32
	// maxCursorLen bounds an incoming cursor before it is decoded; an
	// outgoing cursor longer than this (a string ordering value of more than
	// about 2 KiB) is an error.
	maxCursorLen  = 3072
	cursorVersion = 1
	macLen        = sha256.Size
)

var processKey = sync.OnceValue(func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("cosworth/pagination: no randomness for the process cursor key: " + err.Error())
	}
	return k
})

func (c Cursor) key() ([]byte, error) {
	if len(c.Key) == 0 {
		return processKey(), nil
	}
	if len(c.Key) < MinCursorKeyLen {
		return nil, fmt.Errorf("cosworth/pagination: Cursor.Key is %d bytes; use at least %d random bytes (or leave it empty for a random per-process key)", len(c.Key), MinCursorKeyLen)
	}
	return c.Key, nil
}

func (c Cursor) ordering() string {
	if c.Ordering == "" {
		return "-id"
	}
	return c.Ordering
}

func (c Cursor) pageSize() int {
	if c.PageSize <= 0 {
		return DefaultPageSize
	}
	return c.PageSize
}

func (c Cursor) param() string {
	if c.QueryParam == "" {
		return "cursor"
	}
	return c.QueryParam
}

// OrdersQuery reports true: Cursor applies its own ORDER BY.
func (Cursor) OrdersQuery() bool { return true }

// Validate checks the Cursor against the model's table: the ordering must
// name a non-NULL integer, string or time field, the table must have a
// single-column primary key, Key must be long enough, PageSize not
// negative and BaseURL an absolute http(s) URL. Views call it
// once, on first use, and panic with its error.
func (c Cursor) Validate(table *schema.Table) error {
	if _, err := c.key(); err != nil {
		return err
	}
	if c.PageSize < 0 {
		return fmt.Errorf("cosworth/pagination: Cursor.PageSize is %d; it must not be negative (0 means 10)", c.PageSize)
	}
	if err := checkBaseURL("Cursor", c.BaseURL); err != nil {
		return err
	}
	_, err := cursorPlanFor(table, c.ordering())
	return err
}

// Apply decodes r's cursor (none: the first page) and shapes q for its
// page: the keyset condition after (or, for a previous page, before) the
// cursor's position, the ordering, and a window of one row more than a
// page, which tells Page whether another page follows. q's model must be
// a model of a struct whose table fits the Cursor (see Validate). It
// returns an *InvalidPageError (wrapping ErrInvalidPage) for a cursor that
// does not decode or verify.
func (c Cursor) Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, Window, error) {
	key, plan, err := c.plan(q)
	if err != nil {
		return q, Window{}, err
	}
	var cur *position
	if raw, ok := querystring.Get(r.URL.RawQuery, c.param()); ok && raw != "" {
		if cur = plan.decode(key, raw); cur == nil {
			return q, Window{}, invalidCursor()
		}
	}
	q = plan.shape(q, cur)
	return q, Window{Limit: int64(c.pageSize()) + 1, cursor: cur, plan: plan}, nil
}

// plan returns the signing key and the plan of q's model and the ordering.
func (c Cursor) plan(q *bun.SelectQuery) ([]byte, *cursorPlan, error) {
	key, err := c.key()
	if err != nil {
		return nil, nil, err
	}
	tm, ok := q.GetModel().(bun.TableModel)
	if !ok {
		return nil, nil, fmt.Errorf("cosworth/pagination: Cursor needs a query whose model is a struct or a slice of structs, got %T", q.GetModel())
	}
	plan, err := cursorPlanFor(tm.Table(), c.ordering())
	return key, plan, err
}

// shape adds to q the keyset condition of cur (none for the first page)
// and the ordering of its direction.
func (p *cursorPlan) shape(q *bun.SelectQuery, cur *position) *bun.SelectQuery {
	order := p.orderForward
	if cur != nil {
		args := make([]any, 0, 2*len(p.idents))
		args = append(args, p.idents...)
		for _, v := range cur.values {
			args = append(args, models.Param(v))
		}
		if cur.reverse {
			q = q.Where(p.whereBefore, args...)
			order = p.orderReverse
		} else {
			q = q.Where(p.whereAfter, args...)
		}
	}
	for i, id := range p.idents {
		q = q.OrderExpr(order[i], id)
	}
	return q
}

// Page describes the page of rows (a pointer to a slice of structs or
// struct pointers) read for w, the window Apply returned: it drops the
// extra row that shows another page follows, puts a previous page (read
// backwards) in order, and links the pages before and after it.
func (c Cursor) Page(r *http.Request, w Window, _ int64, rows any) (*Page, error) {
	if w.plan == nil {
		return nil, errors.New("cosworth/pagination: Cursor.Page needs the Window of Cursor.Apply")
	}
	key, err := c.key()
	if err != nil {
		return nil, err
	}
	rv := reflect.ValueOf(rows)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Slice {
		return nil, fmt.Errorf("cosworth/pagination: Cursor.Page needs a pointer to a slice, got %T", rows)
	}
	s := rv.Elem()
	cur := w.cursor
	hasMore := trimPage(s, c.pageSize(), cur != nil && cur.reverse)
	var hasNext, hasPrev bool
	switch {
	case cur == nil:
		hasNext = hasMore
	case cur.reverse:
		hasNext, hasPrev = true, hasMore
	default:
		hasNext, hasPrev = hasMore, true
	}
	page := &Page{}
	if !hasNext && !hasPrev {
		return page, nil
	}
	l := newLinks(r, c.BaseURL)
	// On an empty page the links continue from the cursor's own position,
	// as DRF does.
	n := s.Len()
	if hasNext {
		if page.Next, err = w.plan.link(&l, key, c.param(), s, n-1, cur, false); err != nil {
			return nil, err
		}
	}
	if hasPrev {
		if page.Previous, err = w.plan.link(&l, key, c.param(), s, 0, cur, true); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// trimPage makes s, the rows read, the page of size rows: an empty slice
// rather than nil, without the extra row read to see whether more follow
// (it reports whether there was one), and in page order when it was read
// backwards (reverse).
func trimPage(s reflect.Value, size int, reverse bool) (hasMore bool) {
	if s.IsNil() {
		s.Set(reflect.MakeSlice(s.Type(), 0, 0))
	}
	n := s.Len()
	if n > size {
		s.SetLen(size)
		n, hasMore = size, true
	}
	if reverse {
		swap := reflect.Swapper(s.Interface())
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			swap(i, j)
		}
	}
	return hasMore
}

// link returns the URL of the page after (or, reverse, before) row of s,
// or after cur's own position when s is empty.
func (p *cursorPlan) link(l *links, key []byte, param string, s reflect.Value, row int, cur *position, reverse bool) (string, error) {
	var values []any
	if s.Len() == 0 {
		values = cur.values
	} else {
		v := s.Index(row)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return "", errors.New("cosworth/pagination: nil row in results")
			}
			v = v.Elem()
		}
		var err error
		if values, err = p.read(v); err != nil {
			return "", err
		}
	}
	token, err := p.encode(key, reverse, values)
	if err != nil {
		return "", err
	}
	return l.with(param, token), nil
}

// position is a decoded cursor.
type position struct {
	reverse bool
	values  []any
}

type valueKind uint8

const (
	kindInt valueKind = iota + 1
	kindUint
	kindString
	kindTime
)

// cursorPlan is what Cursor needs to know about one model and ordering,
// built once and cached.
type cursorPlan struct {
	domain       string      // bound into the MAC: table and ordering
	idents       []any       // bun.Ident of the ordering column, then the pk's
	index        [][]int     // struct field index paths, as idents
	ptr          []bool      // the struct field is a pointer
	kinds        []valueKind // value kinds, as idents
	whereAfter   string      // rows after a position in the page order
	whereBefore  string      // rows before a position
	orderForward []string    // ORDER BY terms per ident for forward pages
	orderReverse []string    // and for previous pages (read backwards)
}

type cursorPlanKey struct {
	model    reflect.Type
	ordering string
}

type cursorPlanResult struct {
	plan *cursorPlan
	err  error
}

// cursorPlans caches plans by model type and ordering; both come from
// code, not requests, so the map is bounded by the program. (A plan holds
// only column names and struct indexes, the same for every bun.DB.)
var cursorPlans sync.Map // cursorPlanKey -> cursorPlanResult

func cursorPlanFor(table *schema.Table, ordering string) (*cursorPlan, error) {
	k := cursorPlanKey{table.Type, ordering}
	if v, ok := cursorPlans.Load(k); ok {
		res := v.(cursorPlanResult)
		return res.plan, res.err
	}
	plan, err := newCursorPlan(table, ordering)
	cursorPlans.Store(k, cursorPlanResult{plan, err})
	return plan, err
}

var timeType = reflect.TypeFor[time.Time]()

func newCursorPlan(table *schema.Table, ordering string) (*cursorPlan, error) {
	name, desc := strings.CutPrefix(ordering, "-")
	if len(table.PKs) != 1 {
		return nil, fmt.Errorf("cosworth/pagination: Cursor needs a model with a single-column primary key; %s has %d", table.Type.Name(), len(table.PKs))
	}
	pk := table.PKs[0]
	meta, err := models.MetaFor(table.Type)
	if err != nil {
		return nil, fmt.Errorf("cosworth/pagination: Cursor: %w", err)
	}
	var field *schema.Field
	if f := meta.Field(name); f != nil {
		field = table.FieldMap[f.Column]
	}
	if field == nil {
		return nil, fmt.Errorf("cosworth/pagination: Cursor.Ordering %q: %q is not a field of %s (fields: %s); use a JSON field name with an optional leading \"-\"",
			ordering, name, table.Type.Name(), strings.Join(meta.Names(true), ", "))
	}
	jsonName := func(f *schema.Field) string {
		if mf := meta.ByColumn(f.Name); mf != nil {
			return mf.Name
		}
		return "" // hidden from JSON
	}
	fields := []*schema.Field{field}
	if field != pk {
		fields = append(fields, pk)
	}
	p := &cursorPlan{domain: "cosworth/pagination/cursor\x00" + table.Name + "\x00" + ordering}
	for _, f := range fields {
		t := f.StructField.Type
		isPtr := t.Kind() == reflect.Pointer
		if isPtr {
			t = t.Elem()
		}
		if !f.IsPK && !f.NotNull && (isPtr || f.NullZero) {
			return nil, fmt.Errorf("cosworth/pagination: Cursor.Ordering %q: field %q of %s may be NULL; tag it bun:\",notnull\" or order by the primary key", ordering, jsonName(f), table.Type.Name())
		}
		var kind valueKind
		switch {
		case t == timeType:
			kind = kindTime
		case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
			kind = kindInt
		case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
			kind = kindUint
		case t.Kind() == reflect.String:
			kind = kindString
		default:
			return nil, fmt.Errorf("cosworth/pagination: Cursor.Ordering %q: field %q of %s has type %s; cursor pagination orders by integer, string or time.Time fields", ordering, jsonName(f), table.Type.Name(), f.StructField.Type)
		}
		p.idents = append(p.idents, bun.Ident(f.Name))
		p.index = append(p.index, f.Index)
		p.ptr = append(p.ptr, isPtr)
		p.kinds = append(p.kinds, kind)
	}
	// The page order is (col, pk) in one direction; "after" a position
	// means further along that order.
	fwd, rev, after, before := "ASC", "DESC", ">", "<"
	if desc {
		fwd, rev, after, before = "DESC", "ASC", "<", ">"
	}
	cols := make([]string, len(fields))
	marks := make([]string, len(fields))
	for i := range fields {
		cols[i] = "?TableAlias.?"
		marks[i] = "?"
		p.orderForward = append(p.orderForward, "?TableAlias.? "+fwd)
		p.orderReverse = append(p.orderReverse, "?TableAlias.? "+rev)
	}
	lhs, rhs := strings.Join(cols, ", "), strings.Join(marks, ", ")
	if len(fields) > 1 {
		lhs, rhs = "("+lhs+")", "("+rhs+")"
	}
	p.whereAfter = lhs + " " + after + " " + rhs
	p.whereBefore = lhs + " " + before + " " + rhs
	return p, nil
}

// read returns the ordering values of the struct v.
func (p *cursorPlan) read(v reflect.Value) ([]any, error) {
	values := make([]any, len(p.index))
	for i, idx := range p.index {
		f, err := v.FieldByIndexErr(idx)
		if err != nil {
			return nil, fmt.Errorf("cosworth/pagination: reading the cursor position: %w", err)
		}
		if p.ptr[i] {
			if f.IsNil() {
				return nil, errors.New("cosworth/pagination: NULL ordering value in results")
			}
			f = f.Elem()
		}
		switch p.kinds[i] {
		case kindInt:
			values[i] = f.Int()
		case kindUint:
			values[i] = f.Uint()
		case kindString:
			values[i] = f.String()
		case kindTime:
			values[i] = f.Interface().(time.Time)
		}
	}
	return values, nil
}

// encode returns the signed cursor for a position.
func (p *cursorPlan) encode(key []byte, reverse bool, values []any) (string, error) {
	buf := make([]byte, 0, 64)
	var flags byte
	if reverse {
		flags = 1
	}
	buf = append(buf, cursorVersion, flags)
	for i, v := range values {
		switch p.kinds[i] {
		case kindInt:
			buf = binary.AppendVarint(buf, v.(int64))
		case kindUint:
			buf = binary.AppendUvarint(buf, v.(uint64))
		case kindString:
			s := v.(string)
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		case kindTime:
			t := v.(time.Time)
			buf = binary.AppendVarint(buf, t.Unix())
			buf = binary.AppendUvarint(buf, uint64(t.Nanosecond()))
		}
	}
	buf = p.sign(buf, key)
	if base64.RawURLEncoding.EncodedLen(len(buf)) > maxCursorLen {
		return "", errors.New("cosworth/pagination: ordering value too long for a cursor")
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// sign appends the MAC of payload to it.
func (p *cursorPlan) sign(payload, key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p.domain))
	m.Write(payload)
	return m.Sum(payload)
}

var strictBase64 = base64.RawURLEncoding.Strict()

// decode verifies and parses a cursor; it returns nil for any cursor that
// is not exactly one this plan signed with key.
func (p *cursorPlan) decode(key []byte, token string) *position {
	if len(token) > maxCursorLen {
		return nil
	}
	buf, err := strictBase64.DecodeString(token)
	if err != nil || len(buf) < 2+macLen {
		return nil
	}
	payload, mac := buf[:len(buf)-macLen], buf[len(buf)-macLen:]
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p.domain))
	m.Write(payload)
	if !hmac.Equal(m.Sum(nil), mac) {
		return nil
	}
	if payload[0] != cursorVersion || payload[1] > 1 {
		return nil
	}
	pos := &position{reverse: payload[1] == 1, values: make([]any, len(p.kinds))}
	rest := payload[2:]
	for i, kind := range p.kinds {
		switch kind {
		case kindInt:
			v, n := binary.Varint(rest)
			if n <= 0 {
				return nil
			}
			pos.values[i], rest = v, rest[n:]
		case kindUint:
			v, n := binary.Uvarint(rest)
			if n <= 0 {
				return nil
			}
			pos.values[i], rest = v, rest[n:]
		case kindString:
			l, n := binary.Uvarint(rest)
			if n <= 0 || l > uint64(len(rest)-n) {
				return nil
			}
			rest = rest[n:]
			pos.values[i], rest = string(rest[:l]), rest[l:]
		case kindTime:
			sec, n := binary.Varint(rest)
			if n <= 0 {
				return nil
			}
			rest = rest[n:]
			nsec, n := binary.Uvarint(rest)
			if n <= 0 || nsec >= 1e9 {
				return nil
			}
			pos.values[i], rest = time.Unix(sec, int64(nsec)).UTC(), rest[n:]
		}
	}
	if len(rest) != 0 {
		return nil
	}
	return pos
}
