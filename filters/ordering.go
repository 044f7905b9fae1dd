package filters

import (
	"net/http"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/querystring"
	"github.com/cosworth/cosworth/models"
)

// OrderingParam is the query parameter Ordering reads unless its Param
// names another (DRF's ORDERING_PARAM).
const OrderingParam = "ordering"

// MaxOrderingTerms is the number of ?ordering= fields used; later ones are
// ignored.
const MaxOrderingTerms = 5

// maxOrderingScan bounds the comma-separated terms of ?ordering= examined,
// valid or not, so a long parameter costs little.
const maxOrderingScan = 100

// Ordering is DRF's OrderingFilter: ?ordering=title,-price orders by the
// named fields, "-" meaning descending. Only the allowed fields count;
// unknown names, a repeated field and anything that is not exactly a field
// name with an optional single "-" are ignored (DRF ignores unknown
// fields), and at most MaxOrderingTerms fields are used, found among the
// first 100 comma-separated terms. When no valid field remains, the
// default ordering applies. The primary key is always the final
// tie-breaker (ascending, unless the ordering already names it), so pages
// of a paginated list are stable.
type Ordering struct {
	// Param is the query parameter the ordering is read from (DRF's
	// ordering_param); empty means OrderingParam. Set it before the first
	// request.
	Param string

	allowed  []orderField
	defaults []orderTerm
	pk       orderField
	pkIndex  int // index of the pk in allowed, -1 when it is not allowed
}

type orderField struct {
	name string // JSON name
	asc  string // the ORDER BY term, ascending: ?TableAlias."col" ASC, or (expr) ASC
	desc string // and descending
}

func newOrderField(name string, col column) orderField {
	return orderField{name: name, asc: col.sql + " ASC", desc: col.sql + " DESC"}
}

func (f orderField) term(desc bool) string {
	if desc {
		return f.desc
	}
	return f.asc
}

type orderTerm struct {
	field orderField
	desc  bool
}

// NewOrdering returns the ordering over allowed (JSON names of table's
// fields clients may order by), with defaults ("name" or "-name", any field
// of table) used when a request names none; empty defaults mean the primary
// key, ascending. It returns an error naming the model and its fields for
// a name that is not a field, and one for a model without a single-column
// primary key.
func NewOrdering(table *schema.Table, allowed, defaults []string) (*Ordering, error) {
	if table == nil {
		return nil, errorf("ordering: nil table; pass db.Table(reflect.TypeFor[Model]())")
	}
	if len(table.PKs) != 1 {
		return nil, errorf("ordering of %s: the model needs a single-column primary key as the tie-breaker (it has %d)", table.Type.Name(), len(table.PKs))
	}
	o := &Ordering{pkIndex: -1}
	pk := table.PKs[0]
	pkSQL := "?TableAlias." + string(pk.SQLName)
	o.pk = newOrderField("", column{sql: pkSQL})
	if meta, err := models.MetaFor(table.Type); err == nil {
		if f := meta.ByColumn(pk.Name); f != nil {
			o.pk.name = f.Name
		}
	}
	for _, name := range allowed {
		if strings.HasPrefix(name, "-") {
			return nil, errorf("ordering field %q: list allowed fields without \"-\" (clients choose the direction)", name)
		}
		col, err := lookupColumn(table, "ordering", name)
		if err != nil {
			return nil, err
		}
		if col.field == pk {
			o.pkIndex = len(o.allowed)
		}
		o.allowed = append(o.allowed, newOrderField(name, col))
	}
	seen := map[string]bool{}
	for _, name := range defaults {
		field, desc := strings.CutPrefix(name, "-")
		col, err := lookupColumn(table, "default ordering", field)
		if err != nil {
			return nil, err
		}
		if seen[col.sql] {
			continue
		}
		seen[col.sql] = true
		o.defaults = append(o.defaults, orderTerm{field: newOrderField(field, col), desc: desc})
	}
	if !seen[pkSQL] {
		o.defaults = append(o.defaults, orderTerm{field: o.pk})
	}
	return o, nil
}

// param is the query parameter o reads.
func (o *Ordering) param() string {
	if o.Param != "" {
		return o.Param
	}
	return OrderingParam
}

// Fields returns the JSON names clients may order by.
func (o *Ordering) Fields() []string {
	names := make([]string, len(o.allowed))
	for i, f := range o.allowed {
		names[i] = f.name
	}
	return names
}

// Parameters describes ?ordering=; none when no field may be named.
func (o *Ordering) Parameters() []Parameter {
	if len(o.allowed) == 0 {
		return nil
	}
	names := make([]string, len(o.allowed))
	for i, f := range o.allowed {
		names[i] = "`" + f.name + "`"
	}
	return []Parameter{{Name: o.param(), Description: "Which field to use when ordering the results. Comma-separated fields among " +
		strings.Join(names, ", ") + "; prefix a field with - for descending order. Unknown fields are ignored."}}
}

// Apply orders q by r's ?ordering= (or the default ordering), ending with
// the primary key. It never returns an error.
func (o *Ordering) Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, error) {
	var (
		buf   [MaxOrderingTerms]int // indexes into allowed, negated-1 for descending
		n     int
		pkSet bool
	)
	if len(o.allowed) > 0 {
		if raw, ok := querystring.Get(r.URL.RawQuery, o.param()); ok {
			scanned := 0
		terms:
			for raw != "" && n < MaxOrderingTerms && scanned < maxOrderingScan {
				scanned++
				var term string
				term, raw, _ = strings.Cut(raw, ",")
				term = strings.TrimSpace(term)
				name, desc := strings.CutPrefix(term, "-")
				idx := -1
				for i, f := range o.allowed {
					if f.name == name {
						idx = i
						break
					}
				}
				if idx < 0 {
					continue
				}
				for _, prev := range buf[:n] {
					if prev == idx || -prev-1 == idx {
						continue terms // a repeated field keeps its first direction
					}
				}
				if desc {
					buf[n] = -idx - 1
				} else {
					buf[n] = idx
				}
				n++
				pkSet = pkSet || idx == o.pkIndex
			}
		}
	}
	if n == 0 {
		for _, t := range o.defaults {
			q = q.OrderExpr(t.field.term(t.desc))
		}
		return q, nil
	}
	for _, v := range buf[:n] {
		if v < 0 {
			q = q.OrderExpr(o.allowed[-v-1].desc)
		} else {
			q = q.OrderExpr(o.allowed[v].asc)
		}
	}
	if !pkSet {
		q = q.OrderExpr(o.pk.asc)
	}
	return q, nil
}
