package pagination_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
)

var testKey = bytes.Repeat([]byte("k"), 32)

func cursorOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q: %v", link, err)
	}
	return u.Query().Get("cursor")
}

// walk follows next (or previous) links from target until there is none,
// inserting one row per page through between, and returns the ids seen.
func walk(t *testing.T, db *bun.DB, p pagination.Cursor, target string, forward bool, between func()) []int64 {
	t.Helper()
	var seen []int64
	for range 100 {
		got, err := run(t, db, p, target)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if got.Count != nil {
			t.Fatalf("cursor page has a count")
		}
		if len(got.Results) > p.PageSize {
			t.Fatalf("page of %d rows, PageSize %d", len(got.Results), p.PageSize)
		}
		if forward {
			seen = append(seen, ids(got.Results)...)
		} else {
			seen = append(ids(got.Results), seen...)
		}
		if between != nil {
			between()
		}
		link := got.Next
		if !forward {
			link = got.Previous
		}
		if link == nil {
			return seen
		}
		target = *link
	}
	t.Fatal("walk did not end")
	return nil
}

func checkOnce(t *testing.T, seen []int64, want map[int64]bool, what string) {
	t.Helper()
	count := map[int64]int{}
	for _, id := range seen {
		count[id]++
		if count[id] > 1 {
			t.Errorf("%s: row %d seen twice", what, id)
		}
	}
	for id := range want {
		if count[id] != 1 {
			t.Errorf("%s: row %d seen %d times, want once (seen %v)", what, id, count[id], seen)
		}
	}
}

func allIDs(t *testing.T, db *bun.DB) map[int64]bool {
	var rows []item
	dbtest.Must(t, db.NewSelect().Model(&rows).Scan(context.Background()), "select all")
	m := map[int64]bool{}
	for _, r := range rows {
		m[r.ID] = true
	}
	return m
}

// orderedBy checks that ids are sorted by ordering ("-id", "rank", ...)
// with the id as tie-breaker in the same direction.
func orderedBy(t *testing.T, db *bun.DB, seen []int64, ordering string) {
	t.Helper()
	var rows []item
	dbtest.Must(t, db.NewSelect().Model(&rows).Scan(context.Background()), "select all")
	byID := map[int64]item{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	if ordering == "" {
		ordering = "-id"
	}
	field, desc := strings.CutPrefix(ordering, "-")
	less := func(a, b item) bool {
		switch {
		case field == "rank" && a.Rank != b.Rank:
			return a.Rank < b.Rank
		case field == "name" && a.Name != b.Name:
			return a.Name < b.Name
		case field == "created" && !a.Created.Equal(b.Created):
			return a.Created.Before(b.Created)
		}
		return a.ID < b.ID
	}
	for i := 1; i < len(seen); i++ {
		a, b := byID[seen[i-1]], byID[seen[i]]
		if desc {
			a, b = b, a
		}
		if !less(a, b) {
			t.Fatalf("order broken at %d: %+v then %+v (seen %v)", i, byID[seen[i-1]], byID[seen[i]], seen)
		}
	}
}

func TestCursorWalk(t *testing.T) {
	for _, ordering := range []string{"", "id", "rank", "-rank", "name", "-created", "created"} {
		t.Run("ordering="+ordering, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, db *bun.DB) {
				insertItems(t, db, 23)
				initial := allIDs(t, db)
				p := pagination.Cursor{PageSize: 4, Ordering: ordering, Key: testKey}
				n := 0
				insert := func() {
					n++
					row := item{Name: "new " + strings.Repeat("z", n), Rank: int64(n % 3), Created: created0.Add(time.Duration(n) * time.Millisecond)}
					_, err := db.NewInsert().Model(&row).Exec(context.Background())
					dbtest.Must(t, err, "insert between pages")
				}
				// Forward, inserting between pages: every row that existed
				// before the walk is seen exactly once, in order.
				seen := walk(t, db, p, "http://h/items/?search=x", true, insert)
				orderedBy(t, db, seen, ordering)
				checkOnce(t, seen, initial, "forward")

				// From the last page back to the first, inserting again:
				// every row that existed before this walk is seen exactly
				// once, in order, and none twice.
				last := lastPage(t, db, p)
				before := allIDs(t, db)
				back := walk(t, db, p, last, false, insert)
				orderedBy(t, db, back, ordering)
				checkOnce(t, back, before, "backward")
			})
		})
	}
}

// lastPage follows next links without inserting and returns the URL of the
// last page.
func lastPage(t *testing.T, db *bun.DB, p pagination.Cursor) string {
	target := "http://h/items/"
	for range 100 {
		got, err := run(t, db, p, target)
		dbtest.Must(t, err, "to the last page")
		if got.Next == nil {
			return target
		}
		target = *got.Next
	}
	t.Fatal("no last page")
	return ""
}

func TestCursorPages(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		p := pagination.Cursor{PageSize: 3, Key: testKey}
		got, err := run(t, db, p, "http://h/items/")
		dbtest.Must(t, err, "empty")
		checkPage(t, got, -1, nil, nil, nil)

		insertItems(t, db, 7)
		got, err = run(t, db, p, "http://h/items/?cursor=&ordering=x")
		dbtest.Must(t, err, "first page")
		if got.Previous != nil || got.Next == nil {
			t.Fatalf("first page links: next %v previous %v", ptrString(got.Next), ptrString(got.Previous))
		}
		if !equalIDs(ids(got.Results), []int64{7, 6, 5}) {
			t.Errorf("first page = %v", ids(got.Results))
		}
		if !strings.HasPrefix(*got.Next, "http://h/items/?cursor=") || !strings.HasSuffix(*got.Next, "&ordering=x") {
			t.Errorf("next link %q does not keep the path and the other parameters", *got.Next)
		}
		c := cursorOf(t, *got.Next)
		if strings.ContainsAny(c, "+/=") || len(c) > 100 {
			t.Errorf("cursor %q is not compact base64url", c)
		}
		page2, err := run(t, db, p, *got.Next)
		dbtest.Must(t, err, "page 2")
		checkPage(t, page2, -1, []int64{4, 3, 2}, page2.Next, page2.Previous)
		page3, err := run(t, db, p, *page2.Next)
		dbtest.Must(t, err, "page 3")
		checkPage(t, page3, -1, []int64{1}, nil, page3.Previous)
		back, err := run(t, db, p, *page3.Previous)
		dbtest.Must(t, err, "back to 2")
		checkPage(t, back, -1, []int64{4, 3, 2}, back.Next, back.Previous)
		first, err := run(t, db, p, *back.Previous)
		dbtest.Must(t, err, "back to 1")
		checkPage(t, first, -1, []int64{7, 6, 5}, first.Next, nil)

		// Rows deleted under a cursor: an empty page whose links continue
		// from the cursor's position, as DRF's.
		_, err = db.NewDelete().Model((*item)(nil)).Where("id < 5").Exec(context.Background())
		dbtest.Must(t, err, "delete")
		empty, err := run(t, db, p, *got.Next)
		dbtest.Must(t, err, "page after deleted rows")
		checkPage(t, empty, -1, nil, nil, empty.Previous)
		if empty.Previous == nil {
			t.Fatal("empty page has no previous link")
		}
		prev, err := run(t, db, p, *empty.Previous)
		dbtest.Must(t, err, "previous of empty page")
		checkPage(t, prev, -1, []int64{7, 6}, prev.Next, nil)
	})
}

func TestCursorPointerRows(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		insertItems(t, db, 5)
		p := pagination.Cursor{PageSize: 2, Key: testKey, Ordering: "id"}
		var rows []*item
		r := httptest.NewRequest(http.MethodGet, "http://h/items/", nil)
		page, err := paginate(p, r, db.NewSelect().Model(&rows), &rows)
		dbtest.Must(t, err, "page")
		if len(rows) != 2 || rows[0].ID != 1 || rows[1].ID != 2 || page.Next == "" {
			t.Fatalf("rows %v next %q", rows, page.Next)
		}
		rows = nil
		r = httptest.NewRequest(http.MethodGet, page.Next, nil)
		_, err = paginate(p, r, db.NewSelect().Model(&rows), &rows)
		dbtest.Must(t, err, "page 2")
		if len(rows) != 2 || rows[0].ID != 3 {
			t.Fatalf("page 2 rows %v", rows)
		}
	})
}

func TestCursorInvalid(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		insertItems(t, db, 10)
		p := pagination.Cursor{PageSize: 3, Key: testKey}
		first, err := run(t, db, p, "http://h/items/")
		dbtest.Must(t, err, "first")
		valid := cursorOf(t, *first.Next)
		raw, err := base64.RawURLEncoding.DecodeString(valid)
		dbtest.Must(t, err, "decode")

		flip := func(i int) string {
			b := bytes.Clone(raw)
			b[i] ^= 1
			return base64.RawURLEncoding.EncodeToString(b)
		}
		other := pagination.Cursor{PageSize: 3, Key: bytes.Repeat([]byte("o"), 32)}
		otherFirst, err := run(t, db, other, "http://h/items/")
		dbtest.Must(t, err, "other key")
		rank := pagination.Cursor{PageSize: 3, Key: testKey, Ordering: "rank"}
		rankFirst, err := run(t, db, rank, "http://h/items/")
		dbtest.Must(t, err, "rank ordering")

		bad := map[string]string{
			"garbage":            "abc",
			"not base64":         "!!!!",
			"std base64 padding": base64.StdEncoding.EncodeToString(raw),
			"truncated":          valid[:len(valid)-4],
			"one char short":     valid[:len(valid)-1],
			"extended":           valid + "AA",
			"payload bit":        flip(2),
			"direction bit":      flip(1),
			"version":            flip(0),
			"mac bit":            flip(len(raw) - 1),
			"signed by another":  cursorOf(t, *otherFirst.Next),
			"another ordering":   cursorOf(t, *rankFirst.Next),
			"too long":           strings.Repeat("A", 5000),
			"nul":                "%00",
		}
		for name, c := range bad {
			_, err := run(t, db, p, "http://h/items/?cursor="+url.QueryEscape(c))
			if err == nil {
				t.Errorf("%s cursor accepted", name)
				continue
			}
			wantInvalid(t, err, "Invalid cursor")
			if strings.Contains(err.Error(), c) && len(c) > 3 {
				t.Errorf("%s: error %q echoes the cursor", name, err)
			}
		}
		// The valid one still works.
		if _, err := run(t, db, p, *first.Next); err != nil {
			t.Fatalf("valid cursor: %v", err)
		}
	})
}

func TestCursorValidate(t *testing.T) {
	db := dbtest.SQLite(t)
	table := db.Table(reflect.TypeFor[item]())
	tests := []struct {
		c    pagination.Cursor
		want string // "" means valid
	}{
		{pagination.Cursor{}, ""},
		{pagination.Cursor{Ordering: "-name"}, ""},
		{pagination.Cursor{Ordering: "rank"}, ""},
		{pagination.Cursor{Ordering: "titel"}, `"titel" is not a field of item (fields: id, name, rank, note, created)`},
		{pagination.Cursor{Ordering: "note"}, `field "note" of item may be NULL`},
		{pagination.Cursor{Key: []byte("short")}, "Cursor.Key is 5 bytes; use at least 32"},
		{pagination.Cursor{PageSize: -1}, "Cursor.PageSize is -1"},
		{pagination.Cursor{BaseURL: "https://x.example/api?v=1"}, `Cursor.BaseURL "https://x.example/api?v=1" must be an absolute http(s) URL`},
	}
	for _, tt := range tests {
		err := tt.c.Validate(table)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.c, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want one containing %q", tt.c, err, tt.want)
		}
	}
	for _, p := range []pagination.Validator{
		pagination.PageNumber{PageSize: -1}, pagination.LimitOffset{MaxLimit: -5},
		pagination.PageNumber{BaseURL: "api.example.com"}, pagination.LimitOffset{BaseURL: "ftp://x/"},
		pagination.LimitOffset{LimitQueryParam: "offset"}, pagination.LimitOffset{OffsetQueryParam: "from&to"},
	} {
		if err := p.Validate(table); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
	for _, p := range []pagination.Validator{
		pagination.PageNumber{}, pagination.LimitOffset{BaseURL: "https://api.example.com/v1/"},
		pagination.LimitOffset{LimitQueryParam: "take", OffsetQueryParam: "skip"},
	} {
		if err := p.Validate(table); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	// A misconfigured cursor also fails at run time, never a page.
	var rows []item
	r := httptest.NewRequest(http.MethodGet, "http://h/items/", nil)
	if _, err := paginate((pagination.Cursor{Ordering: "nope"}), r, db.NewSelect().Model(&rows), &rows); err == nil {
		t.Error("Paginate with an unknown ordering succeeded")
	}
}

type owner struct {
	bun.BaseModel `bun:"table:owners"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Name          string `bun:"name,notnull" json:"name"`
}

type owned struct {
	bun.BaseModel `bun:"table:owned"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Name          string `bun:"name,notnull" json:"name"`
	OwnerID       int64  `bun:"owner_id,notnull" json:"owner"`
	Owner         *owner `bun:"rel:belongs-to,join:owner_id=id" json:"-"`
}

// TestJoinedQuery pages a query that joins a relation whose columns have
// the same names (id, name): the paginators qualify their columns.
func TestJoinedQuery(t *testing.T) {
	for name, open := range dbtest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			for _, m := range []any{(*owner)(nil), (*owned)(nil)} {
				_, err := db.NewCreateTable().Model(m).Exec(ctx)
				dbtest.Must(t, err, "create")
			}
			_, err := db.NewInsert().Model(&[]owner{{Name: "o1"}, {Name: "o2"}}).Exec(ctx)
			dbtest.Must(t, err, "owners")
			rows := make([]owned, 9)
			for i := range rows {
				rows[i] = owned{Name: fmt.Sprintf("n%d", i), OwnerID: int64(i%2 + 1)}
			}
			_, err = db.NewInsert().Model(&rows).Exec(ctx)
			dbtest.Must(t, err, "owned")
			for _, p := range []pagination.Paginator{
				pagination.Cursor{PageSize: 4, Key: testKey, Ordering: "-name"},
				pagination.PageNumber{PageSize: 4},
				pagination.LimitOffset{DefaultLimit: 4},
			} {
				target, seen := "http://h/owned/", 0
				for target != "" {
					var got []owned
					q := db.NewSelect().Model(&got).Relation("Owner")
					if _, ok := p.(pagination.Cursor); !ok {
						q = q.OrderExpr("?TableAlias.id")
					}
					page, err := paginate(p, httptest.NewRequest(http.MethodGet, target, nil), q, &got)
					if err != nil {
						t.Fatalf("%T: %v", p, err)
					}
					for _, g := range got {
						if g.Owner == nil || g.Owner.ID != g.OwnerID {
							t.Fatalf("%T: relation not loaded: %+v", p, g)
						}
					}
					seen += len(got)
					target = page.Next
				}
				if seen != 9 {
					t.Errorf("%T: %d rows seen, want 9", p, seen)
				}
			}
		})
	}
}

// entry embeds models.Base, whose fields bun flattens.
type entry struct {
	bun.BaseModel `bun:"table:entries"`
	models.Base
	Title string `bun:"title,notnull" json:"title"`
}

func TestCursorOverBase(t *testing.T) {
	for name, open := range dbtest.Dialects(t, (*entry)(nil)) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			for i := range 7 {
				e := entry{Title: fmt.Sprint(i)}
				e.CreatedAt = created0.Add(time.Duration(i/2) * time.Second) // pairs share a time
				_, err := db.NewInsert().Model(&e).Exec(ctx)
				dbtest.Must(t, err, "insert")
			}
			p := pagination.Cursor{PageSize: 3, Ordering: "-created_at", Key: testKey}
			dbtest.Must(t, p.Validate(db.Table(reflect.TypeFor[entry]())), "Validate")
			var titles []string
			target := "http://h/entries/"
			for target != "" {
				var rows []entry
				page, err := paginate(p, httptest.NewRequest(http.MethodGet, target, nil), db.NewSelect().Model(&rows), &rows)
				dbtest.Must(t, err, "page")
				for _, r := range rows {
					titles = append(titles, r.Title)
				}
				target = page.Next
			}
			// Newest first; equal times by id, descending.
			if got := strings.Join(titles, ","); got != "6,5,4,3,2,1,0" {
				t.Errorf("walk = %s", got)
			}
		})
	}
}

// TestCursorConcurrent pages from many goroutines at once, through the
// first use of a plan and of the per-process key (run with -race).
func TestCursorConcurrent(t *testing.T) {
	db := dbtest.SQLite(t)
	_, err := db.NewCreateTable().Model((*item)(nil)).Exec(context.Background())
	dbtest.Must(t, err, "create")
	insertItems(t, db, 20)
	p := pagination.Cursor{PageSize: 5, Ordering: "-name"} // zero Key: the process key
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			target, seen := "http://h/items/", 0
			for target != "" {
				var rows []item
				page, err := paginate(p, httptest.NewRequest(http.MethodGet, target, nil), db.NewSelect().Model(&rows), &rows)
				if err != nil {
					errs <- err
					return
				}
				seen += len(rows)
				target = page.Next
			}
			if seen != 20 {
				errs <- fmt.Errorf("saw %d rows, want 20", seen)
				return
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
