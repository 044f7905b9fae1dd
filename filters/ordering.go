package filters

import (
	"net/http"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/querystring"
	"github.com/cosworth/cosworth/models"
)

// OrderingParam is the query parameter Ordering reads.
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
	allowed  []orderField
	defaults []orderTerm
	pk       orderField
	pkIndex  int // index of the pk in allowed, -1 when it is not allowed
}

type orderField struct {
	name  string // JSON name
	ident any    // bun.Ident, boxed once
}

type orderTerm struct {
	field orderField
	desc  bool
}

const (
	orderAsc  = "?TableAlias.? ASC"
	orderDesc = "?TableAlias.? DESC"
)

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
	o.pk = orderField{ident: bun.Ident(pk.Name)}
	if meta, err := models.MetaFor(table.Type); err == nil {
		if f := meta.ByColumn(pk.Name); f != nil {
			o.pk.name = f.Name
		}
	}
	for _, name := range allowed {
		if strings.HasPrefix(name, "-") {
			return nil, errorf("ordering field %q: list allowed fields without \"-\" (clients choose the direction)", name)
		}
		f, err := lookupField(table, "ordering", name)
		if err != nil {
			return nil, err
		}
		if f == pk {
			o.pkIndex = len(o.allowed)
		}
		o.allowed = append(o.allowed, orderField{name: name, ident: bun.Ident(f.Name)})
	}
	seen := map[string]bool{}
	for _, name := range defaults {
		field, desc := strings.CutPrefix(name, "-")
		f, err := lookupField(table, "default ordering", field)
		if err != nil {
			return nil, err
		}
		if seen[f.Name] {
			continue
		}
		seen[f.Name] = true
		o.defaults = append(o.defaults, orderTerm{field: orderField{name: field, ident: bun.Ident(f.Name)}, desc: desc})
	}
	if !seen[pk.Name] {
		o.defaults = append(o.defaults, orderTerm{field: o.pk})
	}
	return o, nil
}

// Fields returns the JSON names clients may order by.
func (o *Ordering) Fields() []string {
	names := make([]string, len(o.allowed))
	for i, f := range o.allowed {
		names[i] = f.name
	}
	return names
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
		if raw, ok := querystring.Get(r.URL.RawQuery, OrderingParam); ok {
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
			q = q.OrderExpr(orderExpr(t.desc), t.field.ident)
		}
		return q, nil
	}
	for _, v := range buf[:n] {
		if v < 0 {
			q = q.OrderExpr(orderDesc, o.allowed[-v-1].ident)
		} else {
			q = q.OrderExpr(orderAsc, o.allowed[v].ident)
		}
	}
	if !pkSet {
		q = q.OrderExpr(orderAsc, o.pk.ident)
	}
	return q, nil
}

func orderExpr(desc bool) string {
	if desc {
		return orderDesc
	}
	return orderAsc
}
