package views

import (
	"cmp"
	"encoding"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/internal/querystring"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/serializers"
)

// caps is the set of actions a view kind serves.
type caps uint8

const (
	capList caps = 1 << iota
	capCreate
	capRetrieve
	capUpdate
	capDestroy
)

// Defaults for zero-valued fields.
const (
	defaultTimeout    = 10 * time.Second
	defaultMaxBody    = 1 << 20
	defaultMaxResults = 1000
	defaultMaxBulk    = 100
)

// plan is everything a view needs per request, computed once on first use.
// ServeHTTP only reads it.
type plan[T any] struct {
	caps   caps
	ser    *serializers.Serializer[T]
	fields *serializers.Plan
	table  *schema.Table

	allow   []string // the Allow header value, in DRF's order
	methods []string // the allowed methods, for Describe

	timeout    time.Duration
	maxBody    int64
	maxResults int
	noETag     bool // Generic.NoETag
	maxBulk    int  // items of a bulk create

	// relations are the bun relations the serializer's nested and slug
	// fields show, loaded with every read (nested.go).
	relations []shownRelation
	// pkWhere is `"book"."id" = ?`, the condition of reload's query, set
	// when there are relations and a single-column primary key.
	pkWhere string
	// toOne are the relations, when every one is a plain to-one relation
	// of T (belongs-to or has-one, no condition), whose presence on an
	// object reload can see (relationsLoaded); nil otherwise.
	toOne []*schema.Relation

	// Detail views.
	urlParam    string
	lookupWhere string                   // `"book"."id" = ?`, identifiers quoted once here
	parseLookup func(string) (any, bool) // a models.Param value
	forUpdate   string                   // "UPDATE OF \"book\"" on PostgreSQL, "" elsewhere

	run runner[T] // runs every query of the view
	// computed selects the model's columns and the computed fields the
	// serializer shows; nil when there are none (see setComputed).
	computed func(q *bun.SelectQuery) *bun.SelectQuery

	// Writes.
	updateCols []string // writable columns an update sets
	// updateFields are updateCols' fields, in their order.
	updateFields []*schema.Field
	// updateIdx are the indexes in fields.Fields of updateCols' serializer
	// fields (the auto_now columns after them have none).
	updateIdx []int
	// inPlace and destroyInPlace say an update or a destroy may run as
	// one statement (inplace.go).
	inPlace, destroyInPlace bool
	returning               string // the model's columns, quoted: what inserts and updates return
	// The unique and foreign-key lookups of writes (related.go); nil
	// when T has none.
	lookups           *related
	relLazy, relEager *serializers.Related[T]

	// Lists.
	filters []filters.Filter // built-in: field filters, search, ordering

	options   []byte // the OPTIONS body without "actions"
	fieldInfo []byte // the serializer's fields as OPTIONS "actions" show them
	info      Info

	rows sync.Pool // *[]T, the row slices of list requests
}

// setup returns the view's plan, building it on first use. A
// misconfigured view panics with a "cosworth/views:" message, on every use.
func (g *Generic[T]) setup(c caps) *plan[T] {
	g.once.Do(func() {
		defer func() {
			if v := recover(); v != nil {
				g.planErr = v
			}
		}()
		g.plan = g.build(c)
	})
	if g.plan == nil {
		panic(g.planErr)
	}
	return g.plan
}

func setupPanic(format string, args ...any) {
	panic("cosworth/views: " + fmt.Sprintf(format, args...))
}

// build sets the view up in named steps: the configuration checked, the
// bounds, the model and its engine, the writes, the lookup of detail
// views, the list's filters and paginator, then the view's description.
func (g *Generic[T]) build(c caps) *plan[T] {
	typ := reflect.TypeFor[T]()
	if typ.Kind() != reflect.Struct {
		setupPanic("the model type %s is not a struct; use a bun model struct such as views.ListView[Book]", typ)
	}
	if g.DB == nil {
		setupPanic("%s view has no DB; set DB to the *bun.DB returned by models.Open", typ.Name())
	}
	p := &plan[T]{caps: c}
	p.allow, p.methods = allowed(c)
	g.setBounds(p)
	g.setModel(p, typ)
	p.setWrites()
	g.setRelated(p)
	detail := c&(capRetrieve|capUpdate|capDestroy) != 0
	lookup := ""
	if detail {
		lookup = g.setLookup(p, typ)
		g.setInPlace(p)
	}
	if c&capList != 0 {
		g.setList(p, typ)
	}
	g.describe(p, typ, detail, lookup)
	return p
}

// setBounds sets the bounds of a request, their zero values replaced by
// the defaults.
func (g *Generic[T]) setBounds(p *plan[T]) {
	p.timeout, p.maxBody, p.maxResults, p.urlParam = g.Timeout, g.MaxBodyBytes, g.MaxResults, g.URLParam
	p.noETag = g.NoETag
	if p.timeout <= 0 {
		p.timeout = defaultTimeout
	}
	if p.maxBody <= 0 {
		p.maxBody = defaultMaxBody
	}
	if p.maxResults <= 0 {
		p.maxResults = defaultMaxResults
	}
	if p.maxBulk = g.MaxBulk; p.maxBulk <= 0 {
		p.maxBulk = defaultMaxBulk
	}
	if p.urlParam == "" {
		p.urlParam = "id"
	}
}

// setModel sets the serializer, the bun table and the runner of the
// view's queries (its engine chosen here, once).
func (g *Generic[T]) setModel(p *plan[T], typ reflect.Type) {
	p.ser = g.Serializer
	if p.ser == nil {
		p.ser = &serializers.Serializer[T]{}
	}
	p.table = g.DB.Table(typ)
	if len(p.table.PKs) == 0 {
		setupPanic("model %s has no primary key; embed models.Base or tag a field `bun:\",pk\"`", typ.Name())
	}
	p.fields = p.ser.Plan()
	p.setComputed()
	p.setRelations(g.DB, typ)
	p.run = newRunner[T](g.DB)
	if len(p.relations) > 0 && len(p.table.PKs) == 1 {
		pk := p.table.PKs[0]
		p.pkWhere = string(p.table.SQLAlias) + "." + string(pk.SQLName) + " = ?"
		p.run.prepareReload(p.withRelations(p.newSelect(g.DB, new(T))).Where(p.pkWhere, lookupSample(pk.IndirectType)))
	}
}

// setWrites sets the columns an update writes and those inserts and
// updates return.
func (p *plan[T]) setWrites() {
	for i, f := range p.fields.Fields {
		if f.Column != "" && !f.ReadOnly && p.table.HasField(f.Column) && !isPK(p.table, f.Column) {
			p.updateCols = append(p.updateCols, f.Column)
			p.updateIdx = append(p.updateIdx, i)
		}
	}
	cols := make([]string, 0, len(p.table.Fields))
	for _, f := range p.table.Fields {
		cols = append(cols, string(f.SQLName))
	}
	p.returning = strings.Join(cols, ", ")
	if len(p.updateCols) > 0 {
		// A hook sets the auto_now timestamps (models.Base's UpdatedAt) on
		// update; their columns must be named to be written, serialized or not.
		for _, f := range p.fields.Meta.Fields {
			if f.AutoNow && p.table.HasField(f.Column) && !slices.Contains(p.updateCols, f.Column) {
				p.updateCols = append(p.updateCols, f.Column)
			}
		}
	}
	for _, c := range p.updateCols {
		p.updateFields = append(p.updateFields, p.table.FieldMap[c])
	}
}

// setLookup sets how detail views find their object: the lookup column,
// its condition and its value parser, the row lock of writes, and the
// lookup formatted once when no Queryset changes it. It returns the
// lookup field's JSON name.
func (g *Generic[T]) setLookup(p *plan[T], typ reflect.Type) string {
	lookup := g.LookupField
	var col string
	var ftype reflect.Type
	if lookup == "" {
		pk := p.table.PKs[0]
		col, ftype = pk.Name, pk.IndirectType
		lookup = col
		if f := p.fields.Meta.ByColumn(col); f != nil {
			lookup = f.Name
		}
	} else {
		// The model plan, as DRF's lookup_field names any model field,
		// serialized or not.
		f := p.fields.Meta.Field(lookup)
		if f == nil || f.Column == "" {
			setupPanic("LookupField %q is not a column field of %s; name a JSON field such as %q", lookup, typ.Name(), "id")
		}
		col, ftype = f.Column, f.Type
	}
	sf, ok := p.table.FieldMap[col]
	if !ok {
		setupPanic("LookupField %q has no column in table %s", lookup, p.table.Name)
	}
	p.lookupWhere = string(p.table.SQLAlias) + "." + string(sf.SQLName) + " = ?"
	p.parseLookup = lookupArgParser(lookupParser(typ, lookup, ftype), ftype)
	if g.DB.Dialect().Name() == dialect.PG {
		p.forUpdate = "UPDATE OF " + string(p.table.SQLAlias)
	}
	if g.Queryset == nil {
		// The same query on every request but for the lookup value.
		// LIMIT 1 only where the lookup column could name several rows:
		// on the primary key or a unique column it adds a Limit node to
		// PostgreSQL's plan and nothing else.
		q := p.withRelations(p.newSelect(g.DB, new(T))).Where(p.lookupWhere, lookupSample(ftype))
		if !(sf.IsPK && len(p.table.PKs) == 1 || isUnique(p.table, sf)) {
			q = q.Limit(1)
		}
		p.run.prepareGet(q, p.forUpdate)
	}
	return lookup
}

// setList checks the paginator against the model and builds the list's
// built-in filters.
func (g *Generic[T]) setList(p *plan[T], typ reflect.Type) {
	if v, ok := g.Paginator.(pagination.Validator); ok {
		if err := v.Validate(p.table); err != nil {
			setupPanic("Paginator of %s: %v", typ.Name(), err)
		}
	}
	p.filters = g.builtinFilters(p)
	g.checkParamNames(typ.Name(), p.filters)
}

// describe sets the OPTIONS body and the description schema generation
// reads.
func (g *Generic[T]) describe(p *plan[T], typ reflect.Type, detail bool, lookup string) {
	name := g.Name
	if name == "" {
		name = splitCamel(typ.Name())
		if detail {
			name += " Instance"
		} else {
			name += " List"
		}
	}
	p.options = optionsBody(name, g.Description)
	p.fieldInfo = fieldInfo(p.fields, func(name string) bool { return p.ser.Represent[name] != nil })
	p.info = Info{
		Model:       typ,
		Name:        typ.Name(),
		Plan:        p.fields,
		Methods:     p.methods,
		Detail:      detail,
		Paginator:   g.Paginator,
		Search:      g.Search,
		Ordering:    g.Ordering,
		Filter:      g.Filter,
		Permissions: g.Permissions,
		ETag:        !g.NoETag,
	}
	p.info.SearchParam, p.info.OrderingParam = g.paramNames()
	for _, f := range p.filters {
		if fs, ok := f.(*filters.Fields); ok {
			p.info.Parameters = append(p.info.Parameters, fs.Parameters()...)
		}
	}
	for _, f := range g.Filters {
		if pf, ok := f.(filters.Parameterized); ok {
			p.info.Parameters = append(p.info.Parameters, pf.Parameters()...)
		}
	}
	if g.AllowBulk && p.caps&capCreate != 0 {
		p.info.Bulk = p.maxBulk
	}
	if detail {
		p.info.URLParam = p.urlParam
		p.info.LookupField = lookup
	}
}

// allowed lists the methods of a view kind in DRF's order
// (http_method_names: get, post, put, patch, delete, head, options), as
// the Allow header value and as a list.
func allowed(c caps) ([]string, []string) {
	var m []string
	if c&(capList|capRetrieve) != 0 {
		m = append(m, http.MethodGet)
	}
	if c&capCreate != 0 {
		m = append(m, http.MethodPost)
	}
	if c&capUpdate != 0 {
		m = append(m, http.MethodPut, http.MethodPatch)
	}
	if c&capDestroy != 0 {
		m = append(m, http.MethodDelete)
	}
	if c&(capList|capRetrieve) != 0 {
		m = append(m, http.MethodHead)
	}
	m = append(m, http.MethodOptions)
	return []string{strings.Join(m, ", ")}, m
}

func isPK(t *schema.Table, col string) bool {
	for _, f := range t.PKs {
		if f.Name == col {
			return true
		}
	}
	return false
}

// lookupParser returns the parser of URL lookup values for a field of type
// t. A value that does not parse is a 404, as Django's get_object_or_404
// answers a malformed primary key.
func lookupParser(model reflect.Type, name string, t reflect.Type) func(string) (any, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return func(s string) (any, bool) {
			if !canonicalInt(s) {
				return nil, false
			}
			n, err := strconv.ParseInt(s, 10, bits)
			return n, err == nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := t.Bits()
		return func(s string) (any, bool) {
			if !canonicalInt(s) {
				return nil, false
			}
			n, err := strconv.ParseUint(s, 10, bits)
			return n, err == nil
		}
	case reflect.String:
		return func(s string) (any, bool) { return s, s != "" }
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return func(s string) (any, bool) {
			v := reflect.New(t)
			if err := v.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
				return nil, false
			}
			return v.Elem().Interface(), true
		}
	}
	setupPanic("lookup field %q of %s has type %s; use an integer, string or encoding.TextUnmarshaler field", name, model.Name(), t)
	return nil
}

// canonicalInt reports whether s is an integer as the object's URL spells
// it: digits without a sign, spaces or leading zeros ("0" itself, or "-"
// and digits for a negative key). "+1", "01", " 1" and "1.0" are not
// aliases of 1 but a 404, as with a route whose lookup is [0-9]+.
func canonicalInt(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
		if s == "0" {
			return false
		}
	}
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// lookupArgParser returns parse with its values as query parameters
// (models.Param); a signed integer in one allocation.
func lookupArgParser(parse func(string) (any, bool), t reflect.Type) func(string) (any, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return func(s string) (any, bool) {
			if !canonicalInt(s) {
				return nil, false
			}
			n, err := strconv.ParseInt(s, 10, bits)
			return models.IntParam(n), err == nil
		}
	}
	return func(s string) (any, bool) {
		v, ok := parse(s)
		return models.Param(v), ok
	}
}

// lookupSample is a lookup value of type t, as lookupArgParser returns
// them, for formatting the lookup query once.
func lookupSample(t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return keyParam(reflect.Zero(t))
}

// keyParam is the key value v as a query parameter, as lookupArgParser
// makes them: a signed integer as models.IntParam, else models.Param.
func keyParam(v reflect.Value) any {
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return models.IntParam(v.Int())
	}
	return models.Param(v.Interface())
}

// splitCamel turns "BookAuthor" into "Book Author", as DRF's
// get_view_name formats class names.
func splitCamel(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			prev := s[i-1]
			nextLower := i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
			if (prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z' && nextLower) {
				b.WriteByte(' ')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// optionsBody is DRF's SimpleMetadata for a JSON-only view.
func optionsBody(name, description string) []byte {
	b := append([]byte(nil), `{"name":`...)
	b = jsonbody.AppendString(b, name)
	b = append(b, `,"description":`...)
	b = jsonbody.AppendString(b, description)
	b = append(b, `,"renders":["application/json"],"parses":`...)
	b = append(b, parses...)
	b = append(b, '}')
	return b
}

// builtinFilters builds the view's field filters, search and ordering from
// the model's bun table, in the order DRF's usual filter_backends run
// (DjangoFilterBackend, SearchFilter, OrderingFilter). The ordering always
// applies (the default, then the primary key, keep pages stable) unless the
// paginator orders the query itself (a cursor).
func (g *Generic[T]) builtinFilters(p *plan[T]) []filters.Filter {
	var fs []filters.Filter
	name := p.table.TypeName
	if len(g.Filter) > 0 {
		f, err := filters.NewFields(p.table, g.Filter)
		if err != nil {
			setupPanic("Filter of %s: %v", name, err)
		}
		fs = append(fs, f)
	}
	if len(g.Search) > 0 {
		f, err := filters.NewSearch(p.table, g.Search)
		if err != nil {
			setupPanic("Search of %s: %v", name, err)
		}
		f.Param = g.SearchParam
		fs = append(fs, f)
	}
	if so, ok := g.Paginator.(pagination.SelfOrdering); ok && so.OrdersQuery() {
		return fs
	}
	f, err := filters.NewOrdering(p.table, g.Ordering, g.DefaultOrdering)
	if err != nil {
		if len(g.Ordering) == 0 && len(g.DefaultOrdering) == 0 {
			return fs // no single-column key to order by, and none asked for
		}
		setupPanic("Ordering of %s: %v", name, err)
	}
	f.Param = g.OrderingParam
	return append(fs, f)
}

// paramNames returns the query parameters of the view's search and
// ordering: SearchParam and OrderingParam, or filters' defaults.
func (g *Generic[T]) paramNames() (search, ordering string) {
	return cmp.Or(g.SearchParam, filters.SearchParam), cmp.Or(g.OrderingParam, filters.OrderingParam)
}

// checkParamNames panics at setup when SearchParam or OrderingParam is
// not a plain query parameter name, or names the same parameter as the
// other or as a field filter (a request could not tell them apart).
func (g *Generic[T]) checkParamNames(name string, fs []filters.Filter) {
	search, ordering := g.paramNames()
	for _, prm := range [...]struct{ field, value string }{{"SearchParam", g.SearchParam}, {"OrderingParam", g.OrderingParam}} {
		if prm.value != "" && !querystring.PlainName(prm.value) {
			setupPanic("%s %q of %s: use letters, digits and _ . ~ - only", prm.field, prm.value, name)
		}
	}
	if len(g.Search) > 0 && len(g.Ordering) > 0 && search == ordering {
		setupPanic("SearchParam and OrderingParam of %s are both %q: give them different names", name, search)
	}
	for _, f := range fs {
		fields, ok := f.(*filters.Fields)
		if !ok {
			continue
		}
		for _, prm := range fields.Parameters() {
			if len(g.Search) > 0 && prm.Name == search || len(g.Ordering) > 0 && prm.Name == ordering {
				setupPanic("Filter of %s: ?%s= is also its search or ordering parameter; rename it with SearchParam or OrderingParam", name, prm.Name)
			}
		}
	}
}
