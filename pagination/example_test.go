package pagination_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
)

// Book is the model of the examples.
type Book struct {
	bun.BaseModel `bun:"table:books"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Title         string `bun:"title,notnull" json:"title"`
}

// exampleDB opens an in-memory SQLite database with n books.
func exampleDB(n int) *bun.DB {
	ctx := context.Background()
	db, err := models.Open(ctx, ":memory:")
	if err != nil {
		panic(err)
	}
	if _, err := db.NewCreateTable().Model((*Book)(nil)).Exec(ctx); err != nil {
		panic(err)
	}
	books := make([]Book, n)
	for i := range books {
		books[i].Title = fmt.Sprintf("Book %d", i+1)
	}
	if _, err := db.NewInsert().Model(&books).Exec(ctx); err != nil {
		panic(err)
	}
	return db
}

// A Paginator only shapes the query and builds the envelope; whoever runs
// the query (a view's runner, or code of your own) takes these steps:
// Apply, the count when the window asks for it, the window's rows unless
// the count shows they are past the end, then Page. (The other examples
// take them through a helper, paginate, that does exactly this.)
func ExamplePaginator() {
	db := exampleDB(25)
	defer db.Close()
	ctx := context.Background()

	var p pagination.Paginator = pagination.PageNumber{PageSize: 10}
	r := httptest.NewRequest("GET", "http://example.com/books/?page=last", nil)
	var books []Book
	q, w, err := p.Apply(r, db.NewSelect().Model(&books).OrderExpr("id ASC"))
	if err != nil {
		panic(err) // an *InvalidPageError: 404 {"detail": "Invalid page."}
	}
	var count int64
	if w.Count {
		n, err := q.Count(ctx)
		if err != nil {
			panic(err)
		}
		count = int64(n)
		w = w.Counted(count) // "last" becomes an offset
	}
	if w.Reads(count) {
		if err := q.Limit(w.Limit).Offset(w.Offset).Scan(ctx); err != nil {
			panic(err)
		}
	}
	page, err := p.Page(r, w, count, &books)
	if err != nil {
		panic(err)
	}
	fmt.Println(page.Count, len(books), page.Previous)
	// Output:
	// 25 5 http://example.com/books/?page=2
}

// PageNumber is the default choice for lists people browse: it has a
// total count and numbered pages (?page=3, ?page=last), like DRF's
// PageNumberPagination. Each page costs a COUNT(*) and an OFFSET query, so
// deep pages of very large tables get slower; prefer [pagination.Cursor]
// there. A view sets it as its Paginator and orders the query (ending with
// the primary key) before calling Apply.
func ExamplePageNumber() {
	db := exampleDB(25)
	defer db.Close()

	p := pagination.PageNumber{PageSize: 10} // ?page_size= up to 100
	r := httptest.NewRequest("GET", "http://example.com/books/?page=2&search=book", nil)
	var books []Book
	page, err := paginate(p, r, db.NewSelect().Model(&books).OrderExpr("id ASC"), &books)
	if err != nil {
		panic(err) // a view answers it: 404 {"detail": "Invalid page."}
	}
	fmt.Println("count:", page.Count)
	fmt.Println("next:", page.Next)
	fmt.Println("previous:", page.Previous)
	fmt.Println("results:", books[0].ID, "to", books[len(books)-1].ID)

	// The view writes the envelope around its serialized results.
	body := page.AppendOpen(nil)
	body = append(body, "[...]"...)
	body = page.AppendClose(body)
	fmt.Println(string(body))
	// Output:
	// count: 25
	// next: http://example.com/books/?page=3&search=book
	// previous: http://example.com/books/?search=book
	// results: 11 to 20
	// {"count":25,"next":"http://example.com/books/?page=3\u0026search=book","previous":"http://example.com/books/?search=book","results":[...]}
}

// LimitOffset suits clients that compute their own windows
// (?limit=20&offset=40), like DRF's LimitOffsetPagination; an offset past
// the end is an empty page, not an error.
func ExampleLimitOffset() {
	db := exampleDB(25)
	defer db.Close()

	p := pagination.LimitOffset{DefaultLimit: 10, MaxLimit: 50}
	r := httptest.NewRequest("GET", "http://example.com/books/?limit=5&offset=20", nil)
	var books []Book
	page, err := paginate(p, r, db.NewSelect().Model(&books).OrderExpr("id ASC"), &books)
	if err != nil {
		panic(err)
	}
	fmt.Println(page.Count, len(books), page.Next == "", page.Previous)
	// Output:
	// 25 5 true http://example.com/books/?limit=5&offset=15
}

// Cursor is the choice for large or fast-growing tables and feeds (newest
// first): every page is an indexed keyset query, as fast at page 1000 as at
// page 1, and walking the pages returns every row exactly once even while
// rows are inserted. It has no count and no page numbers, only next and
// previous links, like DRF's CursorPagination. Cursors are signed: set Key
// (32 random bytes or more, shared by all instances) in production.
func ExampleCursor() {
	db := exampleDB(7)
	defer db.Close()

	p := pagination.Cursor{PageSize: 3, Ordering: "-id", Key: []byte("an example key of at least 32 bytes")}
	r := httptest.NewRequest("GET", "http://example.com/books/recent/", nil)
	var books []Book
	// The cursor orders the query itself: do not add an ORDER BY.
	page, err := paginate(p, r, db.NewSelect().Model(&books), &books)
	if err != nil {
		panic(err)
	}
	fmt.Println("page 1:", bookIDs(books), "has previous:", page.Previous != "")

	// Follow the next link; a forged or truncated cursor would be a 404
	// {"detail": "Invalid cursor"}.
	r = httptest.NewRequest("GET", page.Next, nil)
	books = nil
	page, err = paginate(p, r, db.NewSelect().Model(&books), &books)
	if err != nil {
		panic(err)
	}
	fmt.Println("page 2:", bookIDs(books), "has previous:", page.Previous != "")
	// Output:
	// page 1: [7 6 5] has previous: false
	// page 2: [4 3 2] has previous: true
}

func bookIDs(books []Book) []int64 {
	out := make([]int64, len(books))
	for i, b := range books {
		out[i] = b.ID
	}
	return out
}
