package views_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/views"
)

// Gadget has a field of every kind OPTIONS describes, each with the
// bounds DRF's SimpleMetadata shows.
type Gadget struct {
	bun.BaseModel `bun:"table:gadgets,alias:gadget"`
	ID            int64       `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Name          string      `bun:",notnull" json:"name" validate:"required,min=2,max=40"`
	Code          string      `bun:",notnull" json:"code" validate:"omitempty,len=4"`
	Contact       string      `bun:",notnull" json:"contact" validate:"omitempty,email,max=254"`
	Homepage      string      `bun:",notnull" json:"homepage" validate:"omitempty,url"`
	Kind          string      `bun:",notnull" json:"kind" validate:"required,oneof=tool toy"`
	Size          int64       `bun:",notnull" json:"size" validate:"oneof=1 2 3"`
	Rating        int64       `bun:",notnull" json:"rating" validate:"gte=1,lte=5"`
	Weight        float64     `bun:",notnull" json:"weight_kg" validate:"gt=0,max=12.5"`
	Active        bool        `bun:",notnull" json:"active"`
	Released      models.Date `bun:"type:date,notnull" json:"released_on"`
	Checked       time.Time   `bun:",notnull" json:"checked_at"`
	Secret        string      `bun:",notnull" json:"secret" cosworth:"write_only"`
	AuthorID      int64       `bun:"author_id,notnull" json:"author"`
	Author        *Author     `bun:"rel:belongs-to,join:author_id=id" json:"-"`
}

const gadgetFields = `{
 "id":{"type":"integer","required":false,"read_only":true,"label":"ID"},
 "name":{"type":"string","required":true,"read_only":false,"label":"Name","min_length":2,"max_length":40},
 "code":{"type":"string","required":false,"read_only":false,"label":"Code","min_length":4,"max_length":4},
 "contact":{"type":"email","required":false,"read_only":false,"label":"Contact","max_length":254},
 "homepage":{"type":"url","required":false,"read_only":false,"label":"Homepage"},
 "kind":{"type":"choice","required":true,"read_only":false,"label":"Kind","choices":[{"value":"tool","display_name":"tool"},{"value":"toy","display_name":"toy"}]},
 "size":{"type":"choice","required":false,"read_only":false,"label":"Size","choices":[{"value":1,"display_name":"1"},{"value":2,"display_name":"2"},{"value":3,"display_name":"3"}]},
 "rating":{"type":"integer","required":false,"read_only":false,"label":"Rating","min_value":1,"max_value":5},
 "weight_kg":{"type":"float","required":false,"read_only":false,"label":"Weight kg","max_value":12.5},
 "active":{"type":"boolean","required":false,"read_only":false,"label":"Active"},
 "released_on":{"type":"date","required":false,"read_only":false,"label":"Released on"},
 "checked_at":{"type":"datetime","required":false,"read_only":false,"label":"Checked at"},
 "secret":{"type":"string","required":false,"read_only":false,"label":"Secret"},
 "author":{"type":"field","required":false,"read_only":false,"label":"Author"}}`

const bookFields = `{
 "id":{"type":"integer","required":false,"read_only":true,"label":"ID"},
 "title":{"type":"string","required":true,"read_only":false,"label":"Title","max_length":200},
 "isbn":{"type":"string","required":true,"read_only":false,"label":"Isbn","min_length":13,"max_length":13},
 "author":{"type":"field","required":true,"read_only":false,"label":"Author"},
 "price_cents":{"type":"integer","required":false,"read_only":false,"label":"Price cents","min_value":0},
 "owner":{"type":"string","required":false,"read_only":true,"label":"Owner"}}`

// TestOptionsMetadata checks OPTIONS as DRF's SimpleMetadata: "actions"
// only for a caller whose request permissions (and, for PUT, object
// permissions on the loaded object) allow the write.
func TestOptionsMetadata(t *testing.T) {
	for name, open := range dbtest.Dialects(t, append(allModels[:len(allModels):len(allModels)], (*Gadget)(nil))...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedAuthors(t, db)
			h := bookstore(db)
			if w := do(h, http.MethodPost, "/books/", dune, as("alice")...); w.Code != http.StatusCreated {
				t.Fatalf("create: %d %s", w.Code, w.Body)
			}
			head := func(name string) string {
				return `"name":"` + name + `","description":"","renders":["application/json"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"]`
			}
			list, detail := head("Book List"), head("Book Instance")
			for _, s := range []step{
				{name: "anonymous list", method: http.MethodOptions, path: "/books/", status: 200, want: "{" + list + "}"},
				{name: "user list", method: http.MethodOptions, path: "/books/", hdr: as("bob"), status: 200,
					want: "{" + list + `,"actions":{"POST":` + bookFields + "}}"},
				{name: "anonymous detail", method: http.MethodOptions, path: "/books/1/", status: 200, want: "{" + detail + "}"},
				{name: "other user's detail", method: http.MethodOptions, path: "/books/1/", hdr: as("bob"), status: 200, want: "{" + detail + "}"},
				{name: "owner's detail", method: http.MethodOptions, path: "/books/1/", hdr: as("alice"), status: 200,
					want: "{" + detail + `,"actions":{"PUT":` + bookFields + "}}"},
				{name: "staff detail", method: http.MethodOptions, path: "/books/1/", hdr: as("admin"), status: 200,
					want: "{" + detail + `,"actions":{"PUT":` + bookFields + "}}"},
				{name: "missing detail", method: http.MethodOptions, path: "/books/99/", hdr: as("alice"), status: 200, want: "{" + detail + "}"},
				{name: "unparsable lookup", method: http.MethodOptions, path: "/books/x/", hdr: as("alice"), status: 200, want: "{" + detail + "}"},
				{name: "bad credential", method: http.MethodOptions, path: "/books/", hdr: as("bad"), status: 401, wantKeys: []string{"detail"}},
			} {
				s.run(t, h)
			}

			gadgets := &views.ListCreateView[Gadget]{DB: db, Name: "Gadgets", Description: "All the gadgets."}
			w := do(gadgets, http.MethodOptions, "/gadgets/", "")
			want := `{"name":"Gadgets","description":"All the gadgets.","renders":["application/json"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"],"actions":{"POST":` + gadgetFields + "}}"
			if w.Code != http.StatusOK || !jsonEqual(w.Body.Bytes(), []byte(want)) {
				t.Fatalf("gadgets: %d\n%s\nwant\n%s", w.Code, w.Body, want)
			}
		})
	}
}

// TestOptionsMetadataViewSet: on a viewset route, POST and PUT are
// checked and described by the configuration of create and update (here
// they need an authenticated user, list and retrieve do not, and list
// shows fewer fields).
func TestOptionsMetadataViewSet(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			h, _, _ := viewSetStore(t, db)
			for _, tc := range []struct {
				path, user, want string
			}{
				{"/books/", "", ``},
				{"/books/", "bob", `{"POST":` + bookFields + `}`},
				{"/books/1/", "", ``},
				{"/books/1/", "bob", `{"PUT":` + bookFields + `}`},
				{"/books/99/", "bob", ``},
			} {
				var hdr []string
				if tc.user != "" {
					hdr = as(tc.user)
				}
				w := do(h, http.MethodOptions, tc.path, "", hdr...)
				var body map[string]json.RawMessage
				if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &body) != nil {
					t.Fatalf("OPTIONS %s as %q: %d %s", tc.path, tc.user, w.Code, w.Body)
				}
				got, ok := body["actions"]
				if tc.want == "" && ok || tc.want != "" && !jsonEqual(got, []byte(tc.want)) {
					t.Fatalf("OPTIONS %s as %q: actions %s, want %s", tc.path, tc.user, got, tc.want)
				}
			}
		})
	}
}
