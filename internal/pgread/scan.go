package pgread

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/models"
)

// kind is how a field is scanned.
type kind uint8

const (
	kString kind = iota + 1
	kInt
	kInt8
	kInt16
	kInt32
	kInt64
	kUint
	kUint8
	kUint16
	kUint32
	kUint64
	kBool
	kFloat32
	kFloat64
	kTime
	kDate
)

// field is a column of a model: where its value goes and how.
type field struct {
	name   string       // the column name, as PostgreSQL reports it
	offset uintptr      // from the start of the struct
	kind   kind         // 0: not scanned by this package
	ptr    bool         // the field is a pointer (nil for NULL)
	elem   reflect.Type // the pointed-to type, for ptr
	chunk  reflect.Type // [chunkLen]elem, for ptr
	rel    int          // 0: a column of the model; r: of the joined relation model.rels[r-1]
}

// relation is a has-one or belongs-to relation of a model, whose columns a
// query that joins it selects as "rel"."column" AS "rel__column".
type relation struct {
	offset uintptr      // of the relation's field in the model
	ptr    bool         // the field is a pointer (allocated when a column is not NULL)
	elem   reflect.Type // the related struct
	chunk  reflect.Type // [chunkLen]elem, for ptr
}

// chunkLen is how many values of a pointer field one allocation holds when
// a list is scanned: a page of ten rows allocates its dates once, not ten
// times. (Pooled list rows are cleared after each request, so the chunks
// are not kept beyond it.)
const chunkLen = 16

// model is what this package knows about a bun model type, built once.
type model struct {
	typ reflect.Type
	// direct is false when bun must run the model's queries: it has
	// select hooks or a BeforeScanRow hook, or a query of it may join a
	// relation bun loads with queries of its own (see loadsMany).
	direct bool
	rels   []*relation
	// byQuoted holds the model's columns by `"alias"."column"`, and those
	// of its has-one and belongs-to relations by
	// `"rel"."column" AS "rel__column"`, as bun formats them.
	byQuoted map[string]*field
	byName   map[string]*field // the model's own columns, by name
	// computed holds the model's bun:",scanonly" fields by name: the
	// fields of computed fields, selected as "(expression) AS name".
	computed map[string]*field
	// loadable: every column is scanned by this package (Load);
	// writable: loadable without update hooks (Writable); deletable:
	// loadable without delete hooks nor soft deletes (Deletable).
	// returning is the plan of its last RETURNING *.
	loadable, writable, deletable bool
	returning                     atomic.Pointer[plan]
	afterScanRow                  bool // *T implements bun.AfterScanRowHook
	beforeAppend                  bool // *T implements bun.BeforeAppendModelHook
	// baseHook: the BeforeAppendModel hook is models.Base's (see
	// isBaseHook), which sets the timestamps on inserts and updates and
	// changes nothing else: the fast paths call it themselves (stamp).
	// opaqueHook: the model has a hook of another kind, which may change
	// the query bun gives it, so bun must format each of its queries.
	baseHook, opaqueHook bool
}

var modelCache sync.Map // reflect.Type -> *model

var (
	afterScanRowType = reflect.TypeFor[bun.AfterScanRowHook]()
	beforeAppendType = reflect.TypeFor[bun.BeforeAppendModelHook]()
	beforeSelectType = reflect.TypeFor[bun.BeforeSelectHook]()
	afterSelectType  = reflect.TypeFor[bun.AfterSelectHook]()
	beforeUpdateType = reflect.TypeFor[bun.BeforeUpdateHook]()
	afterUpdateType  = reflect.TypeFor[bun.AfterUpdateHook]()
	beforeDeleteType = reflect.TypeFor[bun.BeforeDeleteHook]()
	afterDeleteType  = reflect.TypeFor[bun.AfterDeleteHook]()
	scannerType      = reflect.TypeFor[sql.Scanner]()
	timeType         = reflect.TypeFor[time.Time]()
	dateType         = reflect.TypeFor[models.Date]()
)

func newModel(db *bun.DB, typ reflect.Type) *model {
	table := db.Table(typ)
	ptr := reflect.PointerTo(typ)
	m := &model{
		typ:          typ,
		direct:       !ptr.Implements(beforeSelectType) && !ptr.Implements(afterSelectType) && !table.HasBeforeScanRowHook() && !loadsMany(db, table, nil),
		byQuoted:     make(map[string]*field, len(table.FieldMap)),
		afterScanRow: ptr.Implements(afterScanRowType),
		beforeAppend: ptr.Implements(beforeAppendType),
	}
	if m.beforeAppend {
		m.baseHook = isBaseHook(typ)
		m.opaqueHook = !m.baseHook
	}
	m.byName = make(map[string]*field, len(table.FieldMap))
	m.loadable = m.direct
	for name, f := range table.FieldMap {
		fi := newField(typ, name, f, 0)
		m.byQuoted[string(table.SQLAlias)+"."+string(f.SQLName)] = fi
		m.byName[name] = fi
		if f.Tag.HasOption("scanonly") {
			if m.computed == nil {
				m.computed = make(map[string]*field)
			}
			m.computed[name] = fi
		}
		if fi.kind == 0 {
			m.loadable = false
		}
	}
	m.writable = m.loadable && !ptr.Implements(beforeUpdateType) && !ptr.Implements(afterUpdateType)
	m.deletable = m.loadable && !ptr.Implements(beforeDeleteType) && !ptr.Implements(afterDeleteType) && table.SoftDeleteField == nil
	for _, r := range table.Relations {
		m.addRelation(typ, r)
	}
	return m
}

var baseType = reflect.TypeFor[models.Base]()

// isBaseHook reports whether the BeforeAppendModel hook of *typ is
// models.Base's, promoted from a Base embedded (by value) in typ itself:
// a method typ declares is compiled from its source, a promoted one is a
// wrapper the compiler generates. Anything else (a hook of typ's own, one
// of a type between typ and Base) is opaque.
func isBaseHook(typ reflect.Type) bool {
	f, ok := typ.FieldByName("Base")
	if !ok || !f.Anonymous || f.Type != baseType || len(f.Index) != 1 {
		return false
	}
	meth, ok := reflect.PointerTo(typ).MethodByName("BeforeAppendModel")
	if !ok {
		return false
	}
	pc := meth.Func.Pointer()
	fn := runtime.FuncForPC(pc)
	if fn == nil {
		return false
	}
	file, _ := fn.FileLine(pc)
	return file == "<autogenerated>"
}

// stamp calls models.Base's hook on elem (a struct of m) with a nil
// query of q's type, as bun calls it with q when it formats an insert or
// an update: it reads nothing of the query but its type. It does nothing
// for a model without that hook.
func (m *model) stamp(ctx context.Context, elem reflect.Value, q bun.Query) error {
	if !m.baseHook {
		return nil
	}
	return elem.Addr().Interface().(bun.BeforeAppendModelHook).BeforeAppendModel(ctx, q)
}

// loadsMany reports whether a query of t may join a has-many or
// many-to-many relation: t declares one, or a has-one or belongs-to
// relation of t (which a query may join, and join a relation of in turn:
// Relation("Novel.Chapters")) leads to a table that does. bun loads such a
// relation with a query of its own after the SELECT, whose text does not
// show it, and no public bun API tells which relations a query joins: so
// the queries of such a model are all bun's. The has-one and belongs-to
// joins themselves show in the text (their "rel__column" columns), and a
// plan maps only the model's own relations' columns, so a query joining a
// relation of a relation is bun's too.
func loadsMany(db *bun.DB, t *schema.Table, seen map[reflect.Type]bool) bool {
	if seen[t.Type] {
		return false
	}
	if seen == nil {
		seen = make(map[reflect.Type]bool)
	}
	seen[t.Type] = true
	for _, r := range t.Relations {
		switch r.Type {
		case schema.HasOneRelation, schema.BelongsToRelation:
			// db.Table: the join table with its own relations resolved.
			if loadsMany(db, db.Table(r.JoinTable.Type), seen) {
				return true
			}
		default:
			return true
		}
	}
	return false
}

func newField(typ reflect.Type, name string, f *schema.Field, rel int) *field {
	fi := &field{name: name, rel: rel}
	if off, ok := offsetOf(typ, f.Index); ok {
		fi.offset = off
		fi.kind, fi.ptr, fi.elem = kindOf(f)
		if fi.ptr {
			fi.chunk = reflect.ArrayOf(chunkLen, fi.elem)
		}
	}
	return fi
}

// addRelation records the columns of r, when it is a has-one or
// belongs-to relation whose field is a struct or a pointer to one. bun
// scans a joined relation's columns ("rel__column") through the model's
// struct fields (schema.Table.LookupField), not through the relation's
// model: it allocates the pointer on the first column that is not NULL,
// skips NULLs while it is nil, stores zero values for NULLs once it is
// not, and calls no hook of the related model. Columns of other relations
// are not mapped, so a query that joins one is left to bun.
func (m *model) addRelation(typ reflect.Type, r *schema.Relation) {
	if r.Type != schema.HasOneRelation && r.Type != schema.BelongsToRelation {
		return
	}
	off, ok := offsetOf(typ, r.Field.Index)
	if !ok {
		return
	}
	jt := r.JoinTable
	ft := r.Field.StructField.Type
	rel := &relation{offset: off, ptr: ft.Kind() == reflect.Pointer, elem: jt.Type}
	if rel.ptr {
		ft = ft.Elem()
		rel.chunk = reflect.ArrayOf(chunkLen, jt.Type)
	}
	if ft != jt.Type {
		return
	}
	m.rels = append(m.rels, rel)
	alias := r.Field.Name
	for name, f := range jt.FieldMap {
		col := alias + "__" + name
		m.byQuoted[`"`+alias+`".`+string(f.SQLName)+` AS "`+col+`"`] = newField(jt.Type, col, f, len(m.rels))
	}
}

// maxUint is the largest value a uint field takes from an int8 column:
// math.MaxUint where uint is 32 bits, math.MaxInt64 where it is 64.
const maxUint = int64(min(uint64(math.MaxUint), math.MaxInt64))

// fieldAt returns the address off bytes into the value at base: a field
// of a struct (off from offsetOf), or an element of an array (off = index
// times the element's size). It is the one place where pgread computes
// addresses from memory layout, so that a row is stored without a
// reflect.Value per field; every other unsafe use of this file stores
// through what it returns or allocates with reflect.New.
//
// What breaks it, and what keeps it right:
//   - base must point to a value of exactly the type off was computed
//     for: plans are cached per query text and model type
//     (shape.planFor checks the model), and scanRows and Statement.Scan
//     are given elements of the plan's model type (the caller checks
//     the destination's type);
//   - off must be the sum of reflect.StructField.Offset along
//     schema.Field.Index with no pointer on the way (offsetOf refuses an
//     embedded pointer), so it stays inside that value;
//   - a store through the result must have the field's Go type (the
//     cells store by kind: an int field as int, not int64, which matters
//     where int is 32 bits), and a pointer field receives only a pointer
//     to a value of its element type allocated by reflect.New, so the
//     garbage collector knows what it points to.
//
// TestDifferential compares what the stores produce with bun's scan, for
// every kind, NULLs, relations and reused slices: it is the guard of this
// code; run it after changing any of it.
func fieldAt(base unsafe.Pointer, off uintptr) unsafe.Pointer {
	return unsafe.Add(base, off)
}

// offsetOf returns the offset of the field at index in typ, and false when
// the path goes through an embedded pointer.
func offsetOf(typ reflect.Type, index []int) (uintptr, bool) {
	var off uintptr
	t := typ
	for i, x := range index {
		if t.Kind() != reflect.Struct {
			return 0, false
		}
		sf := t.Field(x)
		off += sf.Offset
		t = sf.Type
		if i < len(index)-1 && t.Kind() == reflect.Pointer {
			return 0, false
		}
	}
	return off, true
}

// kindOf returns how f is scanned, 0 for a field this package leaves to
// bun (JSON, msgpack, arrays, sql.Scanner types other than models.Date,
// and any other type).
func kindOf(f *schema.Field) (kind, bool, reflect.Type) {
	if f.Tag.HasOption("msgpack") || f.Tag.HasOption("array") || f.Tag.HasOption("json_use_number") {
		return 0, false, nil
	}
	switch strings.ToLower(f.UserSQLType) {
	case "json", "jsonb", "hstore":
		return 0, false, nil
	}
	t := f.StructField.Type
	ptr := t.Kind() == reflect.Pointer
	if ptr {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return kTime, ptr, t
	case dateType:
		return kDate, ptr, t
	}
	if reflect.PointerTo(t).Implements(scannerType) || t.Implements(scannerType) {
		return 0, false, nil
	}
	var k kind
	switch t.Kind() {
	case reflect.String:
		k = kString
	case reflect.Int:
		k = kInt
	case reflect.Int8:
		k = kInt8
	case reflect.Int16:
		k = kInt16
	case reflect.Int32:
		k = kInt32
	case reflect.Int64:
		k = kInt64
	case reflect.Uint:
		k = kUint
	case reflect.Uint8:
		k = kUint8
	case reflect.Uint16:
		k = kUint16
	case reflect.Uint32:
		k = kUint32
	case reflect.Uint64:
		k = kUint64
	case reflect.Bool:
		k = kBool
	case reflect.Float32:
		k = kFloat32
	case reflect.Float64:
		k = kFloat64
	default:
		return 0, false, nil
	}
	return k, ptr, t
}

// accepts reports whether a column of type oid scans into kind k the way
// bun scans it through database/sql.
func (k kind) accepts(oid uint32) bool {
	switch k {
	case kString:
		return oid == pgtype.TextOID || oid == pgtype.VarcharOID || oid == pgtype.BPCharOID || oid == pgtype.NameOID
	case kInt, kInt8, kInt16, kInt32, kInt64, kUint, kUint8, kUint16, kUint32, kUint64:
		return oid == pgtype.Int2OID || oid == pgtype.Int4OID || oid == pgtype.Int8OID
	case kBool:
		return oid == pgtype.BoolOID
	case kFloat32, kFloat64:
		return oid == pgtype.Float4OID || oid == pgtype.Float8OID
	case kTime, kDate:
		return oid == pgtype.TimestamptzOID || oid == pgtype.TimestampOID || oid == pgtype.DateOID
	}
	return false
}

// plan maps the result columns of one query text to the fields of one
// model type.
type plan struct {
	model  *model
	fields []*field    // in result order
	rels   []*relation // the joined relations the columns fill
	relOf  []int       // per field: 0, or 1 + its relation's index in rels
	// version: the row's xmin follows the fields (Statement.ScanVersion).
	version bool
	states  sync.Pool
}

func newPlan(m *model, cols []string) *plan {
	p := &plan{model: m}
	seen := make(map[*field]bool, len(cols))
	relIndex := make(map[int]int) // model.rels index+1 -> plan.rels index+1
	for _, c := range cols {
		f := m.byQuoted[c]
		if f == nil {
			if name := computedName(c); name != "" {
				f = m.computed[name]
			}
		}
		if f == nil || f.kind == 0 || seen[f] {
			return nil
		}
		seen[f] = true
		p.fields = append(p.fields, f)
		r := 0
		if f.rel > 0 {
			if r = relIndex[f.rel]; r == 0 {
				p.rels = append(p.rels, m.rels[f.rel-1])
				r = len(p.rels)
				relIndex[f.rel] = r
			}
		}
		p.relOf = append(p.relOf, r)
	}
	return p
}

// matches reports whether the result columns are the plan's (names and
// types), checked on every query: a table changed under a cached text, or
// a column type the field does not take, lets bun run the query.
func (p *plan) matches(fds []pgconn.FieldDescription) bool {
	if p.version {
		if len(fds) != len(p.fields)+1 || fds[len(fds)-1].Name != "xmin" || fds[len(fds)-1].DataTypeOID != xidOID {
			return false
		}
		fds = fds[:len(p.fields)]
	}
	if len(fds) != len(p.fields) {
		return false
	}
	for i, f := range p.fields {
		if fds[i].Name != f.name || !f.kind.accepts(fds[i].DataTypeOID) {
			return false
		}
	}
	return true
}

// state is the scan targets of one query: a cell per column, reused for
// every row, pooled per plan.
type state struct {
	cells   []cell
	texts   []textCell
	targets []any // &texts[i] for string fields, &cells[i] for the others; then &version
	rels    []relState
	list    bool
	version uint32 // the row's xmin, for a versioned plan
}

// relState is where the columns of a joined relation go in the current
// row.
type relState struct {
	base  unsafe.Pointer // the related struct
	fresh bool           // allocated for this row: kept only if a column is not NULL
	seen  bool           // a column was not NULL
	chunk unsafe.Pointer // lists: related structs are taken from chunks of chunkLen
	used  int
}

// getState returns the cells for one query; list is true for a slice
// (pointer fields and related structs are allocated in chunks).
func (p *plan) getState(list bool) *state {
	var s *state
	if v := p.states.Get(); v != nil {
		s = v.(*state)
	} else {
		s = &state{cells: make([]cell, len(p.fields)), texts: make([]textCell, len(p.fields)), targets: make([]any, len(p.fields))}
		if len(p.rels) > 0 {
			s.rels = make([]relState, len(p.rels))
		}
		for i, f := range p.fields {
			s.cells[i] = cell{kind: f.kind, ptr: f.ptr, elem: f.elem, chunkType: f.chunk}
			if f.ptr {
				s.cells[i].size = f.elem.Size()
			}
			if r := p.relOf[i]; r > 0 {
				s.cells[i].seen = &s.rels[r-1].seen
			}
			s.targets[i] = &s.cells[i]
			if f.kind == kString {
				s.texts[i] = textCell{&s.cells[i]}
				s.targets[i] = &s.texts[i]
			}
		}
		if p.version {
			s.targets = append(s.targets, &s.version)
		}
	}
	s.list = list
	for i := range s.cells {
		s.cells[i].list = list
	}
	return s
}

func (p *plan) putState(s *state) {
	for i := range s.cells {
		c := &s.cells[i]
		c.p, c.chunk, c.used = nil, nil, 0
	}
	clear(s.rels)
	p.states.Put(s)
}

// point aims the cells at the fields of the struct at base, and those of
// its joined relations at the related structs: the one a pointer field
// already points to (bun scans into it), or a new one, kept by finish
// only if one of its columns is not NULL (bun allocates it on the first
// such column).
func (s *state) point(p *plan, base unsafe.Pointer) {
	for i, r := range p.rels {
		rs := &s.rels[i]
		rs.seen, rs.fresh = false, false
		at := fieldAt(base, r.offset)
		switch {
		case !r.ptr:
			rs.base = at
		case *(*unsafe.Pointer)(at) != nil:
			rs.base = *(*unsafe.Pointer)(at)
		default:
			rs.fresh = true
			if !s.list {
				rs.base = reflect.New(r.elem).UnsafePointer()
				break
			}
			if rs.chunk == nil || rs.used == chunkLen {
				rs.chunk, rs.used = reflect.New(r.chunk).UnsafePointer(), 0
			}
			rs.base = fieldAt(rs.chunk, uintptr(rs.used)*r.elem.Size())
			rs.used++
		}
	}
	for i, f := range p.fields {
		b := base
		if r := p.relOf[i]; r > 0 {
			b = s.rels[r-1].base
		}
		s.cells[i].p = fieldAt(b, f.offset)
	}
}

// finish stores, after a row is scanned, the related structs allocated
// for it whose columns were not all NULL. One whose columns were all NULL
// is still zero (NULL stores zero values), so a list's chunk takes it
// back.
func (s *state) finish(p *plan, base unsafe.Pointer) {
	for i, r := range p.rels {
		rs := &s.rels[i]
		switch {
		case !rs.fresh:
		case rs.seen:
			*(*unsafe.Pointer)(fieldAt(base, r.offset)) = rs.base
		case s.list:
			rs.used--
		}
	}
}

// cell receives one column's value from pgx (it implements pgtype's
// scanner interfaces, so pgx decodes binary results straight into it) and
// stores it in a field, as bun would: NULL is the zero value, or nil for a
// pointer field.
type cell struct {
	p    unsafe.Pointer // the field
	seen *bool          // set when a value is not NULL, for a joined relation's column
	kind kind
	ptr  bool
	elem reflect.Type

	// Pointer fields of lists: values are taken from chunks of chunkLen.
	list      bool
	chunkType reflect.Type
	size      uintptr
	chunk     unsafe.Pointer
	used      int
}

var errInfinity = errors.New("cosworth: cannot scan an infinite timestamp or date")

// dst returns where the value goes: the field, or for a pointer field the
// value it points to, allocated when it is nil (as bun does).
func (c *cell) dst() unsafe.Pointer {
	if c.seen != nil {
		*c.seen = true
	}
	if !c.ptr {
		return c.p
	}
	if v := *(*unsafe.Pointer)(c.p); v != nil {
		return v
	}
	var v unsafe.Pointer
	switch {
	case !c.list || c.size == 0:
		v = reflect.New(c.elem).UnsafePointer()
	default:
		if c.chunk == nil || c.used == chunkLen {
			c.chunk, c.used = reflect.New(c.chunkType).UnsafePointer(), 0
		}
		v = fieldAt(c.chunk, uintptr(c.used)*c.size)
		c.used++
	}
	*(*unsafe.Pointer)(c.p) = v
	return v
}

// null stores a NULL as bun does: the zero value of a plain field; for a
// pointer field, nil stays nil and one that pointed to a value points to a
// new zero value.
func (c *cell) null() {
	if c.ptr {
		if *(*unsafe.Pointer)(c.p) != nil {
			*(*unsafe.Pointer)(c.p) = reflect.New(c.elem).UnsafePointer()
		}
		return
	}
	switch c.kind {
	case kString:
		*(*string)(c.p) = ""
	case kInt, kUint:
		*(*uint)(c.p) = 0
	case kInt64, kUint64:
		*(*uint64)(c.p) = 0
	case kInt32, kUint32:
		*(*uint32)(c.p) = 0
	case kInt16, kUint16:
		*(*uint16)(c.p) = 0
	case kInt8, kUint8, kBool:
		*(*uint8)(c.p) = 0
	case kFloat32:
		*(*float32)(c.p) = 0
	case kFloat64:
		*(*float64)(c.p) = 0
	case kTime:
		*(*time.Time)(c.p) = time.Time{}
	case kDate:
		*(*models.Date)(c.p) = models.Date{}
	}
}

func (c *cell) mismatch(what string) error {
	return fmt.Errorf("cosworth: cannot scan %s into a field of kind %d", what, c.kind)
}

// textCell is the cell of a string field. It alone takes text: pgx hands
// every column of a text-format result (simple protocol, exec mode) to a
// TextScanner when the target is one, so the other cells must not be.
type textCell struct{ c *cell }

// ScanText stores a text column.
func (t *textCell) ScanText(v pgtype.Text) error {
	c := t.c
	if !v.Valid {
		c.null()
		return nil
	}
	*(*string)(c.dst()) = v.String
	return nil
}

// ScanInt64 stores an integer column.
func (c *cell) ScanInt64(v pgtype.Int8) error {
	if !v.Valid {
		c.null()
		return nil
	}
	n := v.Int64
	var lo, hi int64
	switch c.kind {
	case kInt:
		lo, hi = math.MinInt, math.MaxInt
	case kInt64:
		lo, hi = math.MinInt64, math.MaxInt64
	case kInt32:
		lo, hi = math.MinInt32, math.MaxInt32
	case kInt16:
		lo, hi = math.MinInt16, math.MaxInt16
	case kInt8:
		lo, hi = math.MinInt8, math.MaxInt8
	case kUint:
		lo, hi = 0, maxUint
	case kUint64:
		lo, hi = 0, math.MaxInt64
	case kUint32:
		lo, hi = 0, math.MaxUint32
	case kUint16:
		lo, hi = 0, math.MaxUint16
	case kUint8:
		lo, hi = 0, math.MaxUint8
	default:
		return c.mismatch("an integer")
	}
	if n < lo || n > hi {
		return fmt.Errorf("cosworth: %d is out of range of the field", n)
	}
	p := c.dst()
	switch c.kind {
	case kInt:
		*(*int)(p) = int(n)
	case kUint:
		*(*uint)(p) = uint(n)
	case kInt64, kUint64:
		*(*int64)(p) = n
	case kInt32, kUint32:
		*(*int32)(p) = int32(n)
	case kInt16, kUint16:
		*(*int16)(p) = int16(n)
	default:
		*(*int8)(p) = int8(n)
	}
	return nil
}

// ScanBool stores a boolean column.
func (c *cell) ScanBool(v pgtype.Bool) error {
	if !v.Valid {
		c.null()
		return nil
	}
	if c.kind != kBool {
		return c.mismatch("a boolean")
	}
	*(*bool)(c.dst()) = v.Bool
	return nil
}

// ScanFloat64 stores a floating-point column.
func (c *cell) ScanFloat64(v pgtype.Float8) error {
	if !v.Valid {
		c.null()
		return nil
	}
	switch c.kind {
	case kFloat64:
		*(*float64)(c.dst()) = v.Float64
	case kFloat32:
		*(*float32)(c.dst()) = float32(v.Float64)
	default:
		return c.mismatch("a float")
	}
	return nil
}

// ScanTimestamptz stores a timestamptz column.
func (c *cell) ScanTimestamptz(v pgtype.Timestamptz) error {
	return c.scanTime(v.Time, v.InfinityModifier, v.Valid)
}

// ScanTimestamp stores a timestamp column.
func (c *cell) ScanTimestamp(v pgtype.Timestamp) error {
	return c.scanTime(v.Time, v.InfinityModifier, v.Valid)
}

// ScanDate stores a date column.
func (c *cell) ScanDate(v pgtype.Date) error {
	return c.scanTime(v.Time, v.InfinityModifier, v.Valid)
}

func (c *cell) scanTime(t time.Time, inf pgtype.InfinityModifier, valid bool) error {
	if !valid {
		c.null()
		return nil
	}
	if inf != pgtype.Finite {
		return errInfinity
	}
	switch c.kind {
	case kTime:
		*(*time.Time)(c.dst()) = t
	case kDate:
		*(*models.Date)(c.dst()) = models.DateOf(t)
	default:
		return c.mismatch("a time")
	}
	return nil
}

// Compile-time checks: pgx finds these interfaces on the cells.
var (
	_ pgtype.TextScanner        = (*textCell)(nil)
	_ pgtype.Int64Scanner       = (*cell)(nil)
	_ pgtype.BoolScanner        = (*cell)(nil)
	_ pgtype.Float64Scanner     = (*cell)(nil)
	_ pgtype.TimestamptzScanner = (*cell)(nil)
	_ pgtype.TimestampScanner   = (*cell)(nil)
	_ pgtype.DateScanner        = (*cell)(nil)
)
