package pgread

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/models"
)

// A write's values go to PostgreSQL as text parameters of a statement
// prepared once per connection and query shape, where bun inlines them as
// literals (a new SQL text, parsed and planned again, for every value).
// Each value is still appended by its field exactly as bun appends it;
// what PostgreSQL receives is then the same text, without the quotes:
// a text parameter whose type the server infers from its column is read
// by that type's input function, as the quoted literal is. Only literals
// that are nothing but a value become parameters (litParam); any other
// (an expression, a float, ARRAY[...]) stays in the SQL text, which then
// is a shape of its own.

// params are the values of a write's $N parameters, in PostgreSQL's text
// form, in one buffer (no allocation per value).
type params struct {
	text   []byte
	ends   []int // the end of value i in text; -1 for NULL
	values [][]byte
	lit    []byte // one field's literal, appended by bun
}

var paramsPool = sync.Pool{New: func() any {
	return &params{text: make([]byte, 0, 256), ends: make([]int, 0, 16), values: make([][]byte, 0, 16), lit: make([]byte, 0, 64)}
}}

func getParams() *params {
	p := paramsPool.Get().(*params)
	p.text, p.ends, p.lit = p.text[:0], p.ends[:0], p.lit[:0]
	return p
}

func putParams(p *params) {
	if cap(p.text) > maxPooledBuf || cap(p.ends) > maxPooledArgs {
		return
	}
	clear(p.values[:cap(p.values)])
	p.values = p.values[:0]
	paramsPool.Put(p)
}

// appendValue appends field f of strct as bun appends it to an INSERT or
// UPDATE (schema.Field.AppendValue with gen): as $N when the literal is
// nothing but a value (see litParam), inline otherwise.
func (p *params) appendValue(b []byte, gen schema.QueryGen, f *schema.Field, strct reflect.Value) []byte {
	p.lit = f.AppendValue(gen, p.lit[:0], strct)
	text, null, ok := litParam(p.text, p.lit)
	if !ok {
		return append(b, p.lit...)
	}
	p.text = text
	if null {
		p.ends = append(p.ends, -1)
	} else {
		p.ends = append(p.ends, len(p.text))
	}
	b = append(b, '$')
	return appendUint(b, len(p.ends))
}

// slices returns the parameters' values, for pgconn.
func (p *params) slices() [][]byte {
	p.values = p.values[:0]
	start := 0
	for _, end := range p.ends {
		if end < 0 {
			p.values = append(p.values, nil)
			continue
		}
		p.values = append(p.values, p.text[start:end:end])
		start = end
	}
	return p.values
}

func appendUint(b []byte, n int) []byte {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// litParam appends to dst the text PostgreSQL reads from lit, one value as
// bun's PostgreSQL dialect appends it, when lit is nothing but a value:
// NULL (null is true; nothing is appended), a quoted string ('...', its
// doubled quotes undone; bun never writes E'...' strings, and a session
// in which standard_conforming_strings is off is never sent parameters),
// an integer, TRUE or FALSE. ok is false for anything else: it stays in
// the SQL text.
func litParam(dst, lit []byte) (_ []byte, null, ok bool) {
	switch {
	case len(lit) == 0:
		return dst, false, false
	case string(lit) == "NULL":
		return dst, true, true
	case string(lit) == "TRUE" || string(lit) == "FALSE":
		return append(dst, lit...), false, true
	case lit[0] == '\'':
		if len(lit) < 2 || lit[len(lit)-1] != '\'' {
			return dst, false, false
		}
		in := lit[1 : len(lit)-1]
		start := len(dst)
		for i := 0; i < len(in); i++ {
			c := in[i]
			if c == '\'' {
				// Inside the quotes a quote is always doubled; one that
				// is not ends the string, and what follows is not a value.
				if i+1 >= len(in) || in[i+1] != '\'' {
					return dst[:start], false, false
				}
				i++
			}
			if c == 0 {
				return dst[:start], false, false
			}
			dst = append(dst, c)
		}
		return dst, false, true
	}
	digits := lit
	if digits[0] == '-' {
		digits = digits[1:]
	} else if digits[0] == ' ' && len(digits) > 1 && digits[1] == '-' {
		// bun's guard against "--": " -5" after a minus sign.
		digits = digits[2:]
		lit = lit[1:]
	}
	if len(digits) == 0 || len(digits) > 20 {
		return dst, false, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return dst, false, false
		}
	}
	return append(dst, lit...), false, true
}

// paramSession reports whether conn's session reads parameters and
// literals alike: standard_conforming_strings on (a backslash in a
// quoted string is itself) and UTF8.
func paramSession(conn *pgxpool.Conn) bool {
	pc := conn.Conn().PgConn()
	return pc.ParameterStatus("standard_conforming_strings") == "on" && pc.ParameterStatus("client_encoding") == "UTF8"
}

// writeShape is one SQL text of a write with $N parameters: sql is its
// own string (the name it is prepared by on every connection), formats
// the result formats of its RETURNING columns.
type writeShape struct {
	sql     string
	formats atomic.Pointer[[]int16]
	plan    atomic.Pointer[planEntry] // of the RETURNING columns
	// ok is false when the text, its values inlined, was not bun's (an
	// INSERT checked against bun's on its first sight): bun runs it.
	ok bool
}

// maxWriteShapes bounds the writes' shapes kept; beyond it, writes of
// new shapes run with bun's literals.
const maxWriteShapes = 1024

var (
	writeShapes sync.Map // SQL text -> *writeShape
	nWriteShape atomic.Int32
)

// loadWriteShape returns the shape of text, nil when it is new.
func loadWriteShape(text []byte) *writeShape {
	v, ok := writeShapes.Load(unsafe.String(unsafe.SliceData(text), len(text)))
	if !ok {
		return nil
	}
	return v.(*writeShape)
}

// storeWriteShape keeps the shape of text (ok as given); nil when the
// bound is reached.
func storeWriteShape(text []byte, ok bool) *writeShape {
	if nWriteShape.Add(1) > maxWriteShapes {
		nWriteShape.Add(-1)
		return nil
	}
	ws := &writeShape{sql: string(text), ok: ok}
	if v, loaded := writeShapes.LoadOrStore(ws.sql, ws); loaded {
		nWriteShape.Add(-1)
		return v.(*writeShape)
	}
	return ws
}

// prepare prepares ws on conn by its text (once per connection: pgx keeps
// it by name) and returns its description and result formats.
func (ws *writeShape) prepare(ctx context.Context, conn *pgxpool.Conn) (*pgconn.StatementDescription, []int16, error) {
	c := conn.Conn()
	sd, err := c.Prepare(ctx, ws.sql, ws.sql)
	if err != nil {
		return nil, nil, err
	}
	if f := ws.formats.Load(); f != nil && len(*f) == len(sd.Fields) {
		return sd, *f, nil
	}
	f := make([]int16, len(sd.Fields))
	for i, fd := range sd.Fields {
		f[i] = c.TypeMap().FormatCodeForOID(fd.DataTypeOID)
	}
	ws.formats.Store(&f)
	return sd, f, nil
}

// returning is the plan that scans ws's RETURNING columns (sd's) into
// m's fields, nil when one is not a field m can hold.
func (ws *writeShape) returning(m *model, sd *pgconn.StatementDescription) *plan {
	if e := ws.plan.Load(); e != nil && e.model == m && (e.plan == nil || e.plan.matches(sd.Fields)) {
		return e.plan
	}
	p, err := returningPlan(m, sd.Fields)
	if err != nil {
		p = nil
	}
	ws.plan.Store(&planEntry{model: m, plan: p})
	return p
}

// forget drops a statement the table changed under (isStalePlan) from
// conn, after the transaction's rollback, so the next run prepares it
// again.
func (ws *writeShape) forget(ctx context.Context, conn *pgxpool.Conn) {
	if pc := conn.Conn().PgConn(); !pc.IsClosed() && pc.TxStatus() != 'I' {
		if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
			return
		}
	}
	_ = conn.Conn().Deallocate(ctx, ws.sql)
}

// scanResult scans the RETURNING row of rr into elem, as scanReturning.
func (tx *Tx) scanResult(ctx context.Context, rr *pgconn.ResultReader, elem reflect.Value) error {
	return tx.scanReturning(ctx, pgx.RowsFromResultReader(tx.conn.Conn().TypeMap(), rr), elem)
}

// appendInsert appends bun's INSERT of elem (a struct of table's model,
// every column, DEFAULT for a value that marshals to it, as bun's
// InsertQuery on PostgreSQL) RETURNING returning: its values as $N
// parameters in p, or, with a nil p, as bun's literals.
func appendInsert(b []byte, gen schema.QueryGen, table *schema.Table, returning string, elem reflect.Value, p *params) []byte {
	b = append(b, "INSERT INTO "...)
	b = append(b, table.SQLName...)
	b = append(b, " ("...)
	for i, f := range table.Fields {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, f.SQLName...)
	}
	b = append(b, ") VALUES ("...)
	for i, f := range table.Fields {
		if i > 0 {
			b = append(b, ", "...)
		}
		switch {
		case marshalsToDefault(f, elem):
			b = append(b, "DEFAULT"...)
		case p == nil:
			b = f.AppendValue(gen, b, elem)
		default:
			b = p.appendValue(b, gen, f, elem)
		}
	}
	b = append(b, ") RETURNING "...)
	return append(b, returning...)
}

// marshalsToDefault is bun's InsertQuery.marshalsToDefault: the field's
// value is written as DEFAULT.
func marshalsToDefault(f *schema.Field, v reflect.Value) bool {
	return (f.IsPtr && f.HasNilValue(v)) || (f.HasZeroValue(v) && (f.NullZero || f.SQLDefault != ""))
}

// InsertFields runs the INSERT of dst (a pointer to a struct of table's
// model: every column, as bun's q().Exec would write it) RETURNING
// returning (the model's columns, quoted) on a pooled connection in one
// round trip, and scans the returned row into dst. Its values are text
// parameters of a statement prepared once per connection and shape (see
// params), so PostgreSQL parses and plans it once. The first insert of
// every shape is checked against bun's own SQL for it (q, with the values
// inlined): a shape that differs runs through Insert with q, as does a
// model with a BeforeAppendModel hook of its own (see isBaseHook), and a
// session that does not read parameters as literals. handled is false
// when bun must run q (see Insert); nothing ran then.
func InsertFields(ctx context.Context, db *bun.DB, table *schema.Table, returning string, dst any, q func() *bun.InsertQuery) (handled bool, err error) {
	m := txModel(db, dst)
	if m == nil || !insertable(m.typ) || m.opaqueHook || table.Type != m.typ || traced(db) {
		return Insert(ctx, q(), dst)
	}
	elem := reflect.ValueOf(dst).Elem()
	if err := m.stamp(ctx, elem, (*bun.InsertQuery)(nil)); err != nil {
		return true, err
	}
	p := getParams()
	defer putParams(p)
	c := getCollector(db.Dialect())
	defer putCollector(c)
	gen := schema.NewQueryGen(db.Dialect())
	c.buf = appendInsert(c.buf, gen, table, returning, elem, p)
	ws := loadWriteShape(c.buf)
	if ws == nil {
		ours := appendInsert(nil, gen, table, returning, elem, nil)
		theirs, err := q().AppendQuery(schema.NewQueryGen(db.Dialect()), nil)
		ws = storeWriteShape(c.buf, err == nil && bytes.Equal(ours, theirs))
	}
	if ws == nil || !ws.ok {
		return Insert(ctx, q(), dst)
	}
	conn, err := models.Acquire(ctx, db)
	if errors.Is(err, models.ErrNoPool) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	tx := &Tx{db: db, conn: conn, m: m}
	if !paramSession(conn) {
		tx.Close(ctx)
		return Insert(ctx, q(), dst)
	}
	defer tx.Close(ctx)
	sd, formats, err := ws.prepare(ctx, conn)
	if err != nil {
		return true, err
	}
	// The model's first insert runs in a transaction committed only once
	// the returned row has been scanned, as in Insert.
	first := m.returning.Load() == nil
	if first {
		if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
			return true, err
		}
	}
	rr := conn.Conn().PgConn().ExecStatement(ctx, sd, p.slices(), nil, formats)
	err = tx.scanResult(ctx, rr, elem)
	if err == nil && first {
		err = tx.Commit(ctx)
	}
	if isStalePlan(err) {
		ws.forget(ctx, conn)
	}
	return true, err
}
