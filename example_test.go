package cosworth_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

// Book is a model: a bun struct embedding models.Base (an id and the
// created_at/updated_at timestamps Cosworth maintains). Its tags say how
// it is stored (bun), named in JSON (json) and validated (validate).
type Book struct {
	bun.BaseModel `bun:"table:books"`
	models.Base
	Title  string `bun:"title,notnull" json:"title" validate:"required,max=200"`
	Author string `bun:"author,notnull" json:"author" validate:"required,max=100"`
	Pages  int    `bun:"pages,notnull" json:"pages" validate:"gte=0"`
}

// This example is the whole flow: declare a model, open the embedded SQLite
// database, create the table, build a list/create view and a
// retrieve/update/destroy view, mount them on chi, and send requests.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cosworth-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := models.Open(ctx, filepath.Join(dir, "books.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := models.CreateTables(ctx, db, (*Book)(nil)); err != nil {
		log.Fatal(err)
	}

	// One serializer for both views; the timestamps are left out so the
	// output below does not change from run to run.
	books := &serializers.Serializer[Book]{Exclude: []string{"created_at", "updated_at"}}
	r := chi.NewRouter()
	r.Handle("/books/", &views.ListCreateView[Book]{
		DB:         db,
		Serializer: books,
		Paginator:  pagination.PageNumber{PageSize: 2},
		Search:     []string{"title", "author"},
		Ordering:   []string{"title", "pages"},
	})
	r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{DB: db, Serializer: books})

	send := func(method, path, body string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(method, path, w.Code, http.StatusText(w.Code))
		if w.Body.Len() > 0 {
			fmt.Println(" ", w.Body.String())
		}
	}
	send("POST", "/books/", `{"title":"A Wizard of Earthsea","author":"Ursula K. Le Guin","pages":183}`)
	send("POST", "/books/", `{"title":"The Dispossessed","author":"Ursula K. Le Guin","pages":387,"id":42}`)
	send("POST", "/books/", `{"title":"Excession","author":"Iain M. Banks","pages":451}`)
	send("POST", "/books/", `{"author":"Nobody","pages":-1}`)
	send("GET", "/books/?search=le+guin&ordering=-pages", "")
	send("GET", "/books/?page=2", "")
	send("PATCH", "/books/3/", `{"pages":455}`)
	send("PUT", "/books/3/", `{"title":"Excession"}`)
	send("DELETE", "/books/1/", "")
	send("GET", "/books/1/", "")
	send("PATCH", "/books/", `{}`)
	// Output:
	// POST /books/ 201 Created
	//   {"id":1,"title":"A Wizard of Earthsea","author":"Ursula K. Le Guin","pages":183}
	// POST /books/ 201 Created
	//   {"id":2,"title":"The Dispossessed","author":"Ursula K. Le Guin","pages":387}
	// POST /books/ 201 Created
	//   {"id":3,"title":"Excession","author":"Iain M. Banks","pages":451}
	// POST /books/ 400 Bad Request
	//   {"title":["This field is required."],"pages":["Ensure this value is greater than or equal to 0."]}
	// GET /books/?search=le+guin&ordering=-pages 200 OK
	//   {"count":2,"next":null,"previous":null,"results":[{"id":2,"title":"The Dispossessed","author":"Ursula K. Le Guin","pages":387},{"id":1,"title":"A Wizard of Earthsea","author":"Ursula K. Le Guin","pages":183}]}
	// GET /books/?page=2 200 OK
	//   {"count":3,"next":null,"previous":"http://example.com/books/","results":[{"id":3,"title":"Excession","author":"Iain M. Banks","pages":451}]}
	// PATCH /books/3/ 200 OK
	//   {"id":3,"title":"Excession","author":"Iain M. Banks","pages":455}
	// PUT /books/3/ 400 Bad Request
	//   {"author":["This field is required."]}
	// DELETE /books/1/ 204 No Content
	// GET /books/1/ 404 Not Found
	//   {"detail":"Not found."}
	// PATCH /books/ 405 Method Not Allowed
	//   {"detail":"Method \"PATCH\" not allowed."}
}
