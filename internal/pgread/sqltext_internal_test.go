package pgread

import (
	"slices"
	"strings"
	"testing"
)

func TestAnalyze(t *testing.T) {
	const cols = `SELECT "b"."id", "b"."title" FROM "books" AS "b"`
	for _, c := range []struct {
		name, sql string
		cols      []string
		count     string
	}{
		{"plain", cols, []string{`"b"."id"`, `"b"."title"`}, `SELECT count(*) FROM "books" AS "b"`},
		{"where and order", cols + ` WHERE ("b"."id" = $1) ORDER BY "b"."title" ASC, "b"."id" ASC`,
			[]string{`"b"."id"`, `"b"."title"`}, `SELECT count(*) FROM "books" AS "b" WHERE ("b"."id" = $1)`},
		{"window", cols + ` ORDER BY "b"."id" ASC LIMIT $1 OFFSET $2`, []string{`"b"."id"`, `"b"."title"`}, ""},
		{"keywords in literals and identifiers", `SELECT "b"."x" FROM "t" AS "b" WHERE ("b"."x" = 'it''s ORDER BY x LIMIT 1') AND ("b"."LIMIT" = 1) ORDER BY "b"."x" ASC`,
			[]string{`"b"."x"`}, `SELECT count(*) FROM "t" AS "b" WHERE ("b"."x" = 'it''s ORDER BY x LIMIT 1') AND ("b"."LIMIT" = 1)`},
		{"search escape", cols + ` WHERE (("b"."title" ILIKE $1 ESCAPE '\'))`, []string{`"b"."id"`, `"b"."title"`},
			`SELECT count(*) FROM "books" AS "b" WHERE (("b"."title" ILIKE $1 ESCAPE '\'))`},
		{"subquery with its own order and limit", cols + ` WHERE "b"."id" IN (SELECT id FROM x ORDER BY id LIMIT 3)`,
			[]string{`"b"."id"`, `"b"."title"`}, `SELECT count(*) FROM "books" AS "b" WHERE "b"."id" IN (SELECT id FROM x ORDER BY id LIMIT 3)`},
		{"column expression", `SELECT "b"."id", count(*) OVER () AS total FROM "books" AS "b"`, nil, `SELECT count(*) FROM "books" AS "b"`},
		{"joined relation", `SELECT "b"."id", "owner"."id" AS "owner__id" FROM "books" AS "b" LEFT JOIN "users" AS "owner" ON ("owner"."id" = "b"."owner_id")`,
			[]string{`"b"."id"`, `"owner"."id" AS "owner__id"`}, `SELECT count(*) FROM "books" AS "b" LEFT JOIN "users" AS "owner" ON ("owner"."id" = "b"."owner_id")`},
		{"unquoted alias", `SELECT "b"."id", "b"."title" AS title FROM "books" AS "b"`, nil, `SELECT count(*) FROM "books" AS "b"`},
		{"alias of an expression", `SELECT "b"."id", lower("b"."title") AS "title" FROM "books" AS "b"`, nil, `SELECT count(*) FROM "books" AS "b"`},
		{"distinct", `SELECT DISTINCT "b"."id" FROM "books" AS "b"`, nil, ""},
		{"group by", cols + ` GROUP BY "b"."id"`, []string{`"b"."id"`, `"b"."title"`}, ""},
		{"union", cols + ` UNION ` + cols, []string{`"b"."id"`, `"b"."title"`}, ""},
		{"parameter in order", cols + ` ORDER BY "b"."id" = $1`, []string{`"b"."id"`, `"b"."title"`}, ""},
		{"two orders", cols + ` ORDER BY "b"."id" ORDER BY "b"."id"`, []string{`"b"."id"`, `"b"."title"`}, ""},
		{"comment", "/* c */ " + cols, nil, ""},
		{"line comment", cols + " WHERE x = 1 -- ORDER BY", nil, ""},
		{"dollar quoting", cols + " WHERE x = $$a' ORDER BY$$", nil, ""},
		{"escape string", cols + ` WHERE x = E'\' ORDER BY '`, nil, ""},
		{"unclosed literal", cols + ` WHERE x = 'a`, nil, ""},
		{"unbalanced", cols + ` WHERE (x = 1`, nil, ""},
		{"two statements", cols + `; DELETE FROM books`, nil, ""},
		{"with", `WITH x AS (SELECT 1) ` + cols, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := analyze(c.sql)
			if !slices.Equal(a.cols, c.cols) || a.count != c.count {
				t.Fatalf("analyze(%s)\n= cols %q, count %q\nwant cols %q, count %q", c.sql, a.cols, a.count, c.cols, c.count)
			}
		})
	}
}

// FuzzAnalyze checks that analyze never panics and that what it derives
// holds for any text: columns are plain quoted columns found in the text,
// and a count is "SELECT count(*) " followed by a piece of the text from
// its FROM, which analyzes to the same count again.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{
		`SELECT "b"."id", "b"."title" FROM "books" AS "b" WHERE ("b"."id" = $1) ORDER BY "b"."title" ASC LIMIT $2 OFFSET $3`,
		`SELECT "b"."id", "owner"."id" AS "owner__id" FROM "books" AS "b" LEFT JOIN "users" AS "owner" ON ("owner"."id" = "b"."owner_id")`,
		`SELECT "b"."x" FROM "t" AS "b" WHERE ("b"."x" = 'it''s ORDER BY x LIMIT 1') AND ("b"."LIMIT" = 1) ORDER BY "b"."x" ASC`,
		`SELECT "b"."id" FROM "books" AS "b" WHERE "b"."id" IN (SELECT id FROM x ORDER BY id LIMIT 3)`,
		`SELECT DISTINCT "b"."id" FROM "books" AS "b" GROUP BY "b"."id"`,
		`SELECT "b"."id" FROM "b" WHERE x = $$a' ORDER BY$$ -- c`,
		`SELECT "b"."id" FROM "b" WHERE x = E'\' ORDER BY ' /* c */`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := analyze(s)
		for _, c := range a.cols {
			if !isQualifiedIdent(c) && !isAliasedColumn(c) || !strings.Contains(s, c) {
				t.Fatalf("analyze(%q): column %q is not a plain column of the text", s, c)
			}
		}
		if a.count == "" {
			return
		}
		const head = "SELECT count(*) "
		tail, ok := strings.CutPrefix(a.count, head)
		if !ok || len(tail) < 4 || !strings.EqualFold(tail[:4], "FROM") || !strings.Contains(s, tail) {
			t.Fatalf("analyze(%q): count %q is not count(*) over a piece of the text from FROM", s, a.count)
		}
		if again := analyze(a.count); again.count != a.count {
			t.Fatalf("analyze(%q): count %q analyzes to count %q", s, a.count, again.count)
		}
	})
}

// TestComputedName: the select item of a computed field is exactly a
// parenthesized expression and a quoted alias; anything else is not.
func TestComputedName(t *testing.T) {
	for item, want := range map[string]string{
		`(SELECT count(*) FROM "books" AS "b" WHERE "b"."author_id" = "author"."id") AS "book_count"`: "book_count",
		`("author"."price" * 2) AS "double"`: "double",
		`(')' || "a"."x") AS "odd"`:          "odd",
		`(1) AS "quo""ted"`:                  `quo"ted`,
		`(a) + (b) AS "x"`:                   "",
		`(a) AS x`:                           "",
		`(a) AS "x" , "y"`:                   "",
		`(a AS "x"`:                          "",
		`lower("b"."title") AS "title"`:      "",
		`(SELECT 1) AS "x"; DROP TABLE books; SELECT (1) AS "y"`: "",
	} {
		if got := computedName(item); got != want {
			t.Errorf("computedName(%s) = %q, want %q", item, got, want)
		}
	}
	a := analyze(`SELECT "b"."id", (SELECT count(*) FROM "x" AS "n" WHERE "n"."b_id" = "b"."id") AS "n_count" FROM "books" AS "b" WHERE ((SELECT count(*) FROM "x" AS "n" WHERE "n"."b_id" = "b"."id") >= $1) ORDER BY (SELECT count(*) FROM "x" AS "n" WHERE "n"."b_id" = "b"."id") DESC`)
	if !slices.Equal(a.cols, []string{`"b"."id"`, `(SELECT count(*) FROM "x" AS "n" WHERE "n"."b_id" = "b"."id") AS "n_count"`}) {
		t.Errorf("cols %q", a.cols)
	}
	if a.count != `SELECT count(*) FROM "books" AS "b" WHERE ((SELECT count(*) FROM "x" AS "n" WHERE "n"."b_id" = "b"."id") >= $1)` {
		t.Errorf("count %q", a.count)
	}
}
