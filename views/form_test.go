package views_test

import (
	"bytes"
	"mime/multipart"
	"testing"

	"github.com/cosworth/cosworth/internal/dbtest"
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
