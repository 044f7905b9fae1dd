package views_test

import (
	"bytes"
	"mime/multipart"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/views"
)

// TestFormBodies checks that generic views read form bodies as DRF's
// FormParser and MultiPartParser do, values converted by the field's type
// with DRF's messages.
func TestFormBodies(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("title", "Excession")
	mw.WriteField("isbn", "9780553575378")
	mw.WriteField("author", "2")
	fw, _ := mw.CreateFormFile("cover", "cover.png") // a file: read through, ignored
	fw.Write(bytes.Repeat([]byte{0x89}, 4096))
	mw.WriteField("price_cents", "1299")
	mw.Close()
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedAuthors(t, db)
			h := bookstore(db)
			alice := func(ct string) []string { return []string{"Authorization", "Test alice", "Content-Type", ct} }
			for _, s := range []step{
				{name: "urlencoded create", method: "POST", path: "/books/", hdr: alice(form), status: 201,
					body: "title=Dune&isbn=9780441013593&author=1&price_cents=999",
					want: `{"id":1,"title":"Dune","isbn":"9780441013593","author":1,"price_cents":999,"owner":"alice"}`},
				{name: "multipart create", method: "POST", path: "/books/", hdr: alice(mw.FormDataContentType()), status: 201, body: mp.String(),
					want: `{"id":2,"title":"Excession","isbn":"9780553575378","author":2,"price_cents":1299,"owner":"alice"}`},
				{name: "bad integer", method: "POST", path: "/books/", hdr: alice(form), status: 400,
					body: "title=X&isbn=9780000000001&author=1&price_cents=abc", want: `{"price_cents":["A valid integer is required."]}`},
				{name: "blank required", method: "POST", path: "/books/", hdr: alice(form), status: 400,
					body: "title=&isbn=9780000000001&author=1", want: `{"title":["This field may not be blank."]}`},
				{name: "empty optional is absent", method: "POST", path: "/books/", hdr: alice(form + "; charset=utf-8"), status: 201,
					body: "title=Use+of+Weapons&isbn=9780000000001&author=%31&price_cents=",
					want: `{"id":3,"title":"Use of Weapons","isbn":"9780000000001","author":1,"price_cents":0,"owner":"alice"}`},
				{name: "last value wins", method: "PATCH", path: "/books/1/", hdr: alice(form), status: 200,
					body: "price_cents=1&price_cents=5",
					want: `{"id":1,"title":"Dune","isbn":"9780441013593","author":1,"price_cents":5,"owner":"alice"}`},
				{name: "too large", method: "PATCH", path: "/books/1/", hdr: alice(form), status: 413,
					body: "title=" + string(bytes.Repeat([]byte("x"), 1<<20)), want: `{"detail":"Request body is too large."}`},
				{name: "still 415 for text/plain", method: "POST", path: "/books/", hdr: alice("text/plain"), status: 415, body: "title=x",
					want: `{"detail":"Unsupported media type \"text/plain\" in request."}`},
			} {
				s.run(t, h)
			}
		})
	}
}

// Task has a boolean and a nullable field, for the form rules on them.
type Task struct {
	bun.BaseModel `bun:"table:tasks,alias:task"`
	ID            int64   `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Title         string  `bun:",notnull" json:"title" validate:"required,max=50"`
	Done          bool    `bun:",notnull" json:"done"`
	Note          *string `json:"note"`
}

// TestFormBooleansAndNulls checks DRF's reading of HTML input: a missing
// boolean is false except in a PATCH, an empty value of a nullable field
// is null, a bad boolean has DRF's message.
func TestFormBooleansAndNulls(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	for name, open := range dbtest.Dialects(t, (*Task)(nil)) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			r := chi.NewRouter()
			r.Handle("/tasks/", &views.ListCreateView[Task]{DB: db})
			r.Handle("/tasks/{id}/", &views.RetrieveUpdateView[Task]{DB: db})
			ct := []string{"Content-Type", form}
			for _, s := range []step{
				{name: "checkbox unchecked", method: "POST", path: "/tasks/", hdr: ct, body: "title=a&note=", status: 201,
					want: `{"id":1,"title":"a","done":false,"note":null}`},
				{name: "checkbox checked", method: "POST", path: "/tasks/", hdr: ct, body: "title=b&done=on&note=x", status: 201,
					want: `{"id":2,"title":"b","done":true,"note":"x"}`},
				{name: "patch keeps the boolean", method: "PATCH", path: "/tasks/2/", hdr: ct, body: "title=c", status: 200,
					want: `{"id":2,"title":"c","done":true,"note":"x"}`},
				{name: "put without it is false", method: "PUT", path: "/tasks/2/", hdr: ct, body: "title=d", status: 200,
					want: `{"id":2,"title":"d","done":false,"note":"x"}`},
				{name: "bad boolean", method: "POST", path: "/tasks/", hdr: ct, body: "title=e&done=maybe", status: 400,
					want: `{"done":["Must be a valid boolean."]}`},
			} {
				s.run(t, r)
			}
		})
	}
}
