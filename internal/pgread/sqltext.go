package pgread

import "strings"

// analysis is what this package reads from the text bun formats for a
// SELECT: its select list, when every item is a plain quoted column, and
// the count query of the same rows. It is computed once per query text.
type analysis struct {
	cols  []string // the select list items (`"book"."id"`, `"owner"."id" AS "owner__id"`, `(...) AS "name"`); nil: not plain columns
	count string   // SELECT count(*) over the same rows; "": not derivable
}

// forbidden are the keywords that, at the top level of a SELECT, make its
// count something else than count(*) over FROM ... WHERE ... (bun's Count
// wraps GROUP BY and DISTINCT ON in a CTE; this package leaves those, and
// anything it does not recognize, to bun).
var forbidden = []string{
	"DISTINCT", "LIMIT", "OFFSET", "FETCH", "FOR", "GROUP", "HAVING", "UNION", "INTERSECT",
	"EXCEPT", "WINDOW", "WITH", "RETURNING", "INTO", "ALL",
}

// analyze reads s, a SELECT formatted by bun with this package's
// parameters ($N). It never guesses: text it does not fully understand (a
// comment, dollar quoting, an escape string, a keyword it does not expect
// at the top level) yields no columns and no count, and the caller lets bun
// run the query.
//
// The count query is "SELECT count(*) FROM ..." up to the top-level ORDER
// BY, as bun's Count builds it (no ORDER BY, LIMIT or OFFSET, so
// PostgreSQL need not sort to count). It is derived only when the select
// list and the ORDER BY hold no parameters, so $1..$n stay numbered as the
// caller collected them.
func analyze(s string) analysis {
	const sel = "SELECT "
	if !strings.HasPrefix(s, sel) {
		return analysis{}
	}
	var (
		depth     int
		from      = -1 // start of the top-level FROM
		order     = -1 // start of the top-level ORDER BY
		itemStart = len(sel)
		items     []string
		plainCols = true
		countOK   = true
	)
	for i := len(sel); i < len(s); {
		c := s[i]
		switch {
		case c == '\'':
			if i > 0 && (s[i-1] == 'E' || s[i-1] == 'e' || s[i-1] == '&') {
				return analysis{} // escape or Unicode string: not understood
			}
			j, ok := skipQuoted(s, i, '\'')
			if !ok {
				return analysis{}
			}
			i = j
			continue
		case c == '"':
			j, ok := skipQuoted(s, i, '"')
			if !ok {
				return analysis{}
			}
			i = j
			continue
		case c == '$':
			if i+1 >= len(s) || s[i+1] < '0' || s[i+1] > '9' {
				return analysis{} // dollar quoting
			}
			if from < 0 || order >= 0 {
				countOK = false // a parameter outside FROM ... WHERE
			}
			i++
			continue
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '/' && i+1 < len(s) && s[i+1] == '*':
			return analysis{}
		case c == ';':
			return analysis{}
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return analysis{}
			}
		case c == ',' && depth == 0 && from < 0:
			items = append(items, strings.TrimSpace(s[itemStart:i]))
			itemStart = i + 1
		case isWordByte(c) && (i == 0 || !isWordByte(s[i-1])):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if depth == 0 {
				w := s[i:j]
				switch {
				case strings.EqualFold(w, "FROM") && from < 0:
					items = append(items, strings.TrimSpace(s[itemStart:i]))
					from = i
				case strings.EqualFold(w, "ORDER") && from >= 0:
					if order >= 0 {
						countOK = false
					}
					order = i
				default:
					for _, k := range forbidden {
						if strings.EqualFold(w, k) {
							countOK = false
							if from < 0 {
								plainCols = false
							}
						}
					}
				}
			}
			i = j
			continue
		}
		i++
	}
	if depth != 0 || from < 0 {
		return analysis{}
	}
	var a analysis
	if plainCols {
		for _, it := range items {
			if !isQualifiedIdent(it) && !isAliasedColumn(it) && computedName(it) == "" {
				plainCols = false
				break
			}
		}
	}
	if plainCols {
		a.cols = items
	}
	if countOK {
		end := len(s)
		if order >= 0 {
			end = order
		}
		a.count = "SELECT count(*) " + strings.TrimRight(s[from:end], " ")
	}
	return a
}

// skipQuoted returns the index after the quoted text starting at s[i]
// (quote doubled inside), and false when it is not closed.
func skipQuoted(s string, i int, q byte) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return 0, false
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// isQualifiedIdent reports whether s is exactly "alias"."column".
func isQualifiedIdent(s string) bool {
	if len(s) == 0 || s[0] != '"' {
		return false
	}
	j, ok := skipQuoted(s, 0, '"')
	if !ok || j >= len(s) || s[j] != '.' || j+1 >= len(s) || s[j+1] != '"' {
		return false
	}
	k, ok := skipQuoted(s, j+1, '"')
	return ok && k == len(s)
}

// isAliasedColumn reports whether s is exactly "alias"."column" AS "name",
// as bun selects the columns of a joined relation.
func isAliasedColumn(s string) bool {
	q, name, ok := strings.Cut(s, " AS ")
	if !ok || !isQualifiedIdent(q) || len(name) < 2 || name[0] != '"' {
		return false
	}
	j, ok := skipQuoted(name, 0, '"')
	return ok && j == len(name)
}

// computedName returns name when s is exactly "(expression) AS "name"",
// as the views select a computed field (models.Annotator): a
// parenthesized expression, balanced and with its quotes closed, then
// the alias. It returns "" for anything else.
func computedName(s string) string {
	if len(s) < 2 || s[0] != '(' {
		return ""
	}
	depth := 0
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '\'', '"':
			j, ok := skipQuoted(s, i, c)
			if !ok {
				return ""
			}
			i = j
			continue
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				alias, ok := strings.CutPrefix(s[i+1:], " AS ")
				if !ok || len(alias) < 2 || alias[0] != '"' {
					return ""
				}
				if j, ok := skipQuoted(alias, 0, '"'); !ok || j != len(alias) {
					return ""
				}
				return strings.ReplaceAll(alias[1:len(alias)-1], `""`, `"`)
			}
		}
		i++
	}
	return ""
}
