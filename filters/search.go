package filters

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/querystring"
	"github.com/cosworth/cosworth/models"
)

// Bounds of a search.
const (
	// MaxSearchTerms is the number of ?search= terms used; later terms are
	// ignored.
	MaxSearchTerms = 10
	// MaxSearchTermLen is the length of a term in characters; a longer term
	// is cut to its first MaxSearchTermLen characters.
	MaxSearchTermLen = 100
)

// SearchParam is the query parameter Search reads unless its Param names
// another (DRF's SEARCH_PARAM).
const SearchParam = "search"

// Search is DRF's SearchFilter: ?search= is split into terms on whitespace
// and commas; a row matches when every term is found (case-insensitively)
// in at least one of the search fields. A field name may carry DRF's
// prefix "^" (starts with) or "=" (exact, case-insensitive); without one it
// is "contains".
//
// Matching is ILIKE on PostgreSQL and LIKE on SQLite, where it is
// case-insensitive for ASCII letters only (SQLite's LIKE, as Django on
// SQLite). %, _ and \ in terms are matched literally (escaped, with ESCAPE
// '\'). Fields that are not text columns are compared as text (CAST(col AS
// TEXT)).
//
// Bounds: at most MaxSearchTerms terms are used and each is cut to
// MaxSearchTermLen characters; more is ignored rather than refused, as a
// search never fails in DRF. NUL characters are removed (as DRF does) and
// invalid UTF-8 becomes U+FFFD, so no search text can make the database
// fail.
type Search struct {
	// Param is the query parameter the search terms are read from (DRF's
	// search_param); empty means SearchParam. Set it before the first
	// request.
	Param string

	fields []string // JSON names, for Fields
	idents []any    // bun.Ident per field
	modes  []byte   // match mode per field: 0 contains, '^' starts with, '=' exact
	pg     string   // the WHERE condition of one term on PostgreSQL
	lite   string   // and on SQLite
	starts bool     // some field matches "starts with" (argument ?1)
	exact  bool     // some field matches exactly (argument ?2)
}

// NewSearch returns the search over fields (JSON names of table's fields,
// optionally prefixed "^" or "="). It returns an error naming the model
// and its fields when a name is not a field, and one for DRF's "@" and "$"
// prefixes, which are not supported. With no fields, the search does
// nothing.
func NewSearch(table *schema.Table, fields []string) (*Search, error) {
	s := &Search{}
	var pg, lite strings.Builder
	for i, name := range fields {
		var mode byte
		if name != "" {
			switch name[0] {
			case '^', '=':
				mode, name = name[0], name[1:]
			case '@', '$':
				return nil, errorf("search field %q: the %q prefix (full text, regex) is not supported; use a plain name (contains), \"^name\" (starts with) or \"=name\" (exact)", name, name[:1])
			}
		}
		f, err := lookupField(table, "search", name)
		if err != nil {
			return nil, err
		}
		s.fields = append(s.fields, name)
		s.idents = append(s.idents, bun.Ident(f.Name))
		s.modes = append(s.modes, mode)
		s.starts = s.starts || mode == '^'
		s.exact = s.exact || mode == '='
		col := "?TableAlias.?" + strconv.Itoa(3+i)
		if !isText(f) {
			col = "CAST(" + col + " AS TEXT)"
		}
		pat := "?0" // contains
		switch mode {
		case '^':
			pat = "?1"
		case '=':
			pat = "?2"
		}
		if i > 0 {
			pg.WriteString(" OR ")
			lite.WriteString(" OR ")
		}
		pg.WriteString(col + " ILIKE " + pat + ` ESCAPE '\'`)
		lite.WriteString(col + " LIKE " + pat + ` ESCAPE '\'`)
	}
	s.pg, s.lite = pg.String(), lite.String()
	return s, nil
}

// param is the query parameter s reads.
func (s *Search) param() string {
	if s.Param != "" {
		return s.Param
	}
	return SearchParam
}

// isText reports whether f is a text column (compared without a cast).
func isText(f *schema.Field) bool {
	t := f.StructField.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.String {
		return false
	}
	typ := strings.ToLower(f.UserSQLType)
	if typ == "" {
		typ = strings.ToLower(f.DiscoveredSQLType)
	}
	return typ == "text" || strings.Contains(typ, "char")
}

// Fields returns the JSON names searched, without prefixes.
func (s *Search) Fields() []string { return append([]string(nil), s.fields...) }

// Parameters describes ?search=; none when there are no search fields.
func (s *Search) Parameters() []Parameter {
	if len(s.fields) == 0 {
		return nil
	}
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = "`" + f + "`"
	}
	return []Parameter{{Name: s.param(), Description: "A search term. Matches, case-insensitively, any of " + strings.Join(names, ", ") + "."}}
}

// Apply narrows q to the rows matching r's ?search= terms. It never
// returns an error.
func (s *Search) Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, error) {
	if len(s.idents) == 0 {
		return q, nil
	}
	raw, ok := querystring.Get(r.URL.RawQuery, s.param())
	if !ok || raw == "" {
		return q, nil
	}
	var buf [MaxSearchTerms]string
	terms := searchTerms(buf[:0], raw)
	if len(terms) == 0 {
		return q, nil
	}
	cond := s.lite
	if q.Dialect().Name() == dialect.PG {
		cond = s.pg
	}
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		for _, term := range terms {
			esc := escapeLike(term)
			args := make([]any, 3, 3+len(s.idents))
			args[0] = models.Param("%" + esc + "%")
			if s.starts {
				args[1] = models.Param(esc + "%")
			}
			if s.exact {
				args[2] = models.Param(esc)
			}
			args = append(args, s.idents...)
			q = q.Where(cond, args...)
		}
		return q
	}), nil
}

// searchTerms appends to dst the terms of a search string, as DRF's
// get_search_terms: NUL removed, split on commas and whitespace; at most
// MaxSearchTerms (cap(dst)) terms, each cut to MaxSearchTermLen characters.
func searchTerms(dst []string, s string) []string {
	for s != "" && len(dst) < MaxSearchTerms {
		i := strings.IndexFunc(s, func(r rune) bool { return !isSearchSep(r) })
		if i < 0 {
			break
		}
		s = s[i:]
		end := strings.IndexFunc(s, isSearchSep)
		if end < 0 {
			end = len(s)
		}
		term := s[:end]
		s = s[end:]
		if strings.IndexByte(term, 0) >= 0 {
			term = strings.ReplaceAll(term, "\x00", "")
			if term == "" {
				continue
			}
		}
		if utf8.RuneCountInString(term) > MaxSearchTermLen {
			n := 0
			for j := range term {
				if n == MaxSearchTermLen {
					term = term[:j]
					break
				}
				n++
			}
		}
		dst = append(dst, term)
	}
	return dst
}

// isSearchSep reports whether r separates search terms: a comma or what
// Python's str.split() treats as whitespace. NUL is not a separator: DRF
// removes it, joining its neighbours.
func isSearchSep(r rune) bool {
	return r == ',' || unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// escapeLike escapes the LIKE metacharacters of s with '\'.
func escapeLike(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '%', '_':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
